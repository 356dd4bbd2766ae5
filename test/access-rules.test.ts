import assert from 'node:assert/strict';
import { FailureThrottle, hasRole, requiredRole, strongestRole } from '../domain/access';
import { NewPrincipal, SourceSecrets } from '../schemas/identity';

describe('access rules', () => {
  it('orders roles: each holds the rights of the ones before it', () => {
    assert.equal(hasRole('admin', 'approver'), true);
    assert.equal(hasRole('approver', 'operator'), true);
    assert.equal(hasRole('operator', 'approver'), false);
    assert.equal(hasRole('viewer', 'operator'), false);
  });

  it('derives a route\'s role from its access unless it names one', () => {
    assert.equal(requiredRole({ access: 'public', method: 'GET' }), undefined);
    assert.equal(requiredRole({ access: 'operator', method: 'GET' }), 'viewer');
    assert.equal(requiredRole({ access: 'operator', method: 'DELETE' }), 'operator');
    assert.equal(requiredRole({ access: 'upstream', method: 'POST' }), 'operator');
    assert.equal(requiredRole({ access: 'operator', method: 'POST', role: 'admin' }), 'admin');
  });

  it('takes the strongest known role from an identity provider\'s claim and ignores the rest', () => {
    assert.equal(strongestRole(['viewer', 'approver', 'operator']), 'approver');
    assert.equal(strongestRole(['superuser', 42, null]), undefined);
  });

  it('throttles an address once it used up its failures in a minute, and lets it back when they age out', () => {
    const throttle = new FailureThrottle(3);
    const t0 = 1_000_000;
    for (const dt of [0, 10_000, 20_000]) throttle.record('10.0.0.1', t0 + dt);
    assert.equal(throttle.retryAfterSeconds('10.0.0.2', t0 + 21_000), undefined);
    assert.equal(throttle.retryAfterSeconds('10.0.0.1', t0 + 21_000), 39);
    assert.equal(throttle.retryAfterSeconds('10.0.0.1', t0 + 60_000), undefined, 'the first failure is a minute old');
  });

  it('refuses the bootstrap principal\'s name and short or misnamed source secrets, without quoting the secret', () => {
    assert.equal(NewPrincipal.safeParse({ id: 'bootstrap-admin', name: 'x', role: 'admin' }).success, false);
    const parsed = SourceSecrets.safeParse({ 'supplier:acme': 'short-secret', 'orders:x': 'long-enough-secret-value' });
    assert.equal(parsed.success, false);
    const text = JSON.stringify(parsed.error?.issues.map((i) => [i.path, i.message]));
    assert.match(text, /supplier:acme/);
    assert.match(text, /orders:x/);
    assert.doesNotMatch(text, /short-secret|long-enough-secret-value/);
  });
});
