import t from 'tap'
import { createMemorySessionStore } from '../../src/sessions/memory-store.js'
import { OPTIONS, storeContract } from './store-contract.js'

storeContract(t, async (t, clock) => {
  const store = createMemorySessionStore({ clock, options: OPTIONS })
  t.teardown(() => store.close())
  return store
})
