import t from 'tap'
import { recentSessions } from '../../src/sessions/recent.js'
import { newSessionId } from '../../src/sessions/token.js'

t.test('remembers the last-seen time of a session by its id, and forgets it', async (t) => {
  const recent = recentSessions()
  const id = newSessionId('user-1')
  t.equal(recent.get(id), undefined, 'unknown at first')
  recent.set(id, 1_700_000_000_123)
  t.equal(recent.get(id), 1_700_000_000_123)
  recent.forget(id)
  t.equal(recent.get(id), undefined, 'forgotten')
})

t.test('ids sharing a slot never read each other\'s time', async (t) => {
  const recent = recentSessions(4) // 16 slots: collisions are certain among 100 ids
  const ids = Array.from({ length: 100 }, (_, i) => newSessionId(`user-${i}`))
  ids.forEach((id, i) => recent.set(id, i))
  let kept = 0
  for (const [i, id] of ids.entries()) {
    const seen = recent.get(id)
    if (seen !== undefined) {
      kept++
      t.equal(seen, i, 'a hit is always the id\'s own time')
    }
  }
  t.ok(kept > 0 && kept <= 16, `at most one id per slot is kept (${kept} of 100)`)
  const last = ids[ids.length - 1] as string
  t.equal(recent.get(last), ids.length - 1, 'the latest write to a slot wins')
  const other = ids.find((id) => id !== last && recent.get(id) === undefined) as string
  recent.forget(other)
  t.equal(recent.get(last), ids.length - 1, 'forgetting an id that lost its slot leaves the slot\'s owner alone')
})
