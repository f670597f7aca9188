// The broker's configuration, from the environment. One loader for every entry point (`npm run
// broker`, `npm start`, a Lambda); the parts live in server/config/:
//   schema.ts        every variable, its type and default      values.ts  building blocks
//   identity-env.ts  dev login and the JWT issuer              grants-env.ts  grant rules
//   vendor-env.ts    STS or Cognito, broker keys, bucket check  env-file.ts   KEYHOLE_ENV_FILE
//   load.ts          parseConfig / loadConfig                  problems.ts   every problem at once
//   formats.ts       role ARNs, durations, defaults shared with the vendors and the CLI
//   cli-env.ts       the `keyhole` command's variables         broker-app.ts config -> app
export { brokerAppFrom } from './config/broker-app.js';
export { withEnvFile } from './config/env-file.js';
export { loadConfig, parseConfig } from './config/load.js';
export { configError, configProblems, type ConfigProblem } from './config/problems.js';
export { LOG_FORMATS, VARIABLES, type LogFormat } from './config/schema.js';
export type { ConfigResult, KeyholeConfig } from './config/types.js';
