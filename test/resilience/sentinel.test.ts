import t from 'tap'
import { build, login, register, uniqueEmail } from '../helper.js'
import { sleep } from '../support/ports.js'
import { startSentinelSetup } from '../support/redis-sentinel.js'

/*
 * Redis Sentinel failover: the master is SIGKILLed under steady validate traffic. During the
 * failover validate answers 503 STORE_UNAVAILABLE (never 401), after it 200, and every session
 * written before the crash is still valid on the promoted replica.
 */

t.test('validate through a Sentinel failover', async (t) => {
  const setup = await startSentinelSetup(t)
  const app = await build(t, { REDIS_URL: undefined, REDIS_CLUSTER_NODES: undefined, REDIS_SENTINELS: setup.sentinels, REDIS_SENTINEL_NAME: setup.name })

  const users = []
  for (let i = 0; i < 20; i++) users.push(await register(app, { email: uniqueEmail('sentinel') }))
  const probe = users[0] as (typeof users)[number]
  const validate = (token: string) => app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
  t.equal((await validate(probe.token)).statusCode, 200)

  const oldMaster = setup.masterPort
  await setup.killMaster()
  const killedAt = performance.now()
  const seen = new Map<number, number>()
  let firstError: number | undefined
  let lastError: number | undefined
  let recoveredAt: number | undefined
  while (performance.now() - killedAt < 30_000) {
    const res = await validate(probe.token)
    const at = performance.now() - killedAt
    seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode === 503) {
      t.equal(res.json().code, 'STORE_UNAVAILABLE')
      firstError ??= at
      lastError = at
    } else if (res.statusCode === 200 && firstError !== undefined) {
      recoveredAt ??= at
      if (at - (lastError ?? 0) > 1000) break
    }
    await sleep(50)
  }
  t.notOk(seen.has(401), 'never 401 during the failover')
  t.same([...seen.keys()].filter((s) => s !== 200 && s !== 503), [], 'only 200 and 503')
  t.ok(recoveredAt !== undefined, '200 again after the failover')
  t.comment(`failover: first 503 at ${Math.round(firstError ?? 0)} ms, last 503 at ${Math.round(lastError ?? 0)} ms, ` +
    `200 again at ${Math.round(recoveredAt ?? 0)} ms after SIGKILL; answers: ${JSON.stringify(Object.fromEntries(seen))}`)
  t.not(await setup.currentMasterPort(), oldMaster, 'the sentinels promoted the replica')

  let lost = 0
  for (const u of users) if ((await validate(u.token)).statusCode !== 200) lost++
  t.comment(`sessions lost across the failover: ${lost} of ${users.length}`)
  t.equal(lost, 0, 'every session survived the failover')
  t.equal((await login(app, probe.email)).statusCode, 201, 'writes go to the new master')
})
