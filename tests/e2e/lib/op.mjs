// The OpenID provider under test: esignetd (always, in ctest), or with E2E_OP=stub the small
// stub in stub_op.mjs, which only exists to check the test harness itself (browser, cookie jar,
// Apache configuration, openid-client settings) while the server side is being written.
import { Esignetd } from './esignetd.mjs';
import { serverProblem } from './prereq.mjs';

export async function startOp(options = {}) {
  if (process.env.E2E_OP === 'stub') {
    const { StubOp } = await import('./stub_op.mjs');
    return new StubOp(options).start();
  }
  const problem = serverProblem();
  if (problem) throw new Error(problem);
  return new Esignetd(options).start();
}
