import t from 'tap'
import { Histogram, Registry } from 'prom-client'
import { LatencyHistogram } from '../../src/plugins/latency-histogram.js'

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

t.test('exposes exactly what a prom-client Histogram exposes for the same observations', async (t) => {
  const ours = new Registry()
  const theirs = new Registry()
  const h = new LatencyHistogram('x_seconds', 'Latency "quoted" \\ help.', BOUNDS, ours)
  const ref = new Histogram({ name: 'x_seconds', help: 'Latency "quoted" \\ help.', labelNames: ['method', 'route', 'status_code'], buckets: BOUNDS, registers: [theirs] })

  t.equal(await ours.metrics(), await theirs.metrics(), 'no series before the first observation')

  // Values on, just under and just over each bound, beyond the last one, and label values that need escaping.
  const values = [0, 1e-9, 2.6, 1000, ...BOUNDS.flatMap((b) => [b, b - 1e-12, b + 1e-12])]
  const series: Array<[string, string, number]> = [
    ['GET', '/v1/auth/forward', 200], ['POST', '/v1/sessions/validate', 401], ['GET', 'unmatched', 404], ['POST', '/a"b\\c\nd', 500]
  ]
  for (const [i, v] of values.entries()) {
    for (const [j, [method, route, status]] of series.entries()) {
      if ((i + j) % 3 === 0) continue // series see different counts
      h.observe(method, route, status, v)
      ref.observe({ method, route, status_code: status }, v)
    }
  }
  const text = await ours.metrics()
  t.equal(text, await theirs.metrics())
  t.match(text, /x_seconds_bucket\{le="0\.001",method="GET",route="\/v1\/auth\/forward",status_code="200"\} \d+/)
  t.match(text, /x_seconds_count\{method="POST",route="\/v1\/sessions\/validate",status_code="401"\} \d+/)

  h.reset()
  ref.reset()
  t.equal(await ours.metrics(), await theirs.metrics(), 'reset drops every series')
})
