import type { Registry } from 'prom-client'

/*
 * The request-latency histogram, in prom-client's registry and exposition format, with a cheap
 * observe. prom-client's Histogram#observe builds a closure, validates the label object and
 * hashes it into a string on every call, even through a labels() child: about 2 µs per request
 * in the validate profile (bench/findings.md), as much as the session lookup itself. Here one
 * request is a Map lookup on a short string key, a bucket scan over 11 bounds and three
 * additions. A test compares the exposition with prom-client's Histogram for the same
 * observations (test/ops/latency-histogram.test.ts).
 */

interface Series {
  labels: Record<string, string | number>
  /** per bucket, not cumulative; the last slot is +Inf */
  counts: Float64Array
  sum: number
  count: number
}

export class LatencyHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series = new Map<string, Series>()

  constructor (
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry
  ) {
    // The registry takes any metric with a name and get() (the shape prom-client's own metrics return).
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0])
  }

  observe (method: string, route: string, statusCode: number, seconds: number): void {
    const key = method + ' ' + statusCode + ' ' + route
    let s = this.series.get(key)
    if (s === undefined) {
      s = { labels: { method, route, status_code: statusCode }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }
      this.series.set(key, s)
    }
    let i = 0
    while (i < this.bounds.length && seconds > (this.bounds[i] as number)) i++
    s.counts[i]! += 1
    s.sum += seconds
    s.count += 1
  }

  reset (): void {
    this.series.clear()
  }

  async get () {
    const values: Array<{ labels: Record<string, string | number>, value: number, metricName: string }> = []
    for (const s of this.series.values()) {
      let cumulative = 0
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i] as number
        values.push({ labels: { le: i < this.bounds.length ? this.bounds[i] as number : '+Inf', ...s.labels }, value: cumulative, metricName: this.name + '_bucket' })
      }
      values.push({ labels: s.labels, value: s.sum, metricName: this.name + '_sum' })
      values.push({ labels: s.labels, value: s.count, metricName: this.name + '_count' })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}
