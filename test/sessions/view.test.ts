import t from 'tap'
import { iso } from '../../src/sessions/view.js'

t.test('iso() writes what Date#toISOString writes', async (t) => {
  const samples = [
    0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000,
    Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1),
    Date.UTC(9999, 11, 31, 23, 59, 59, 999)
  ]
  for (let i = 0; i < 5000; i++) samples.push(Math.floor(Math.random() * Date.UTC(9999, 11, 31)))
  const wrong = samples.filter((ms) => iso(ms) !== new Date(ms).toISOString())
  t.same(wrong.map((ms) => [ms, iso(ms)]), [], `${samples.length} times, edges included, read the same`)
})
