import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createPasswords, type Passwords } from './passwords.js'
import { createUsersRepository, type UsersRepository } from './repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    users: UsersRepository
    passwords: Passwords
  }
}

async function usersPlugin (app: FastifyInstance, { config }: { config: Config }) {
  app.decorate('users', createUsersRepository(app.database.db, { preparedStatements: config.DATABASE_PREPARED_STATEMENTS }))
  app.decorate('passwords', createPasswords({
    memoryCost: config.ARGON2_MEMORY_KIB,
    timeCost: config.ARGON2_TIME_COST,
    parallelism: config.ARGON2_PARALLELISM
  }, { threads: config.HASH_CONCURRENCY, nice: config.HASH_NICE }))
}

export default fp(usersPlugin, { name: 'users', dependencies: ['database'] })
