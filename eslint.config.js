import neostandard from 'neostandard'

export default neostandard({
  ts: true,
  ignores: ['dist/**', 'node_modules/**', 'drizzle/**', 'openapi/**', 'bench/results/**', '.tap/**', 'test-artifacts/**']
})
