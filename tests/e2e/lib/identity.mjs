// The demo identity (individual ID 8267411571 in config/identities.json) and checks that the
// claims a relying party received are that person's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IDENTITIES } from './esignetd.mjs';
import { DEMO_INDIVIDUAL_ID } from './esignet_ui.mjs';

// Claims the tests' clients register and that the demo identity must provide.
export const DEMO_CLAIMS = ['name', 'email', 'phone_number', 'birthdate', 'gender'];

function strings(value, out = []) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => strings(v, out));
  return out;
}

// The record of the demo identity, whatever the file's layout (a list, or an object keyed by ID,
// or {identities: [...]}): the object that has the individual ID as one of its string values.
export function demoIdentity() {
  const doc = JSON.parse(readFileSync(IDENTITIES, 'utf8'));
  const found = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (Object.values(v).some((x) => x === DEMO_INDIVIDUAL_ID)) found.push(v);
      else Object.entries(v).forEach(([k, x]) => {
        if (k === DEMO_INDIVIDUAL_ID && x && typeof x === 'object') found.push(x);
        else walk(x);
      });
    }
  };
  walk(doc);
  assert.ok(found.length, `identity ${DEMO_INDIVIDUAL_ID} not found in ${IDENTITIES}`);
  return found[0];
}

const digits = (s) => s.replace(/\D/g, '');

// Asserts that `claims` (userinfo, or what an RP shows) hold the demo identity's values for
// `names`: each value is a non-empty string found in the identity record (birthdate as
// YYYY-MM-DD, compared by its digits since the record may store it as 1987/11/25).
export function assertDemoClaims(claims, names = DEMO_CLAIMS, where = 'claims') {
  const record = demoIdentity();
  const recordStrings = strings(record);
  for (const n of names) {
    const v = claims[n];
    assert.equal(typeof v, 'string', `${where}: ${n} missing or not a string in ${JSON.stringify(claims)}`);
    assert.ok(v.length > 0, `${where}: ${n} is empty`);
    if (n === 'birthdate') {
      assert.match(v, /^\d{4}-\d{2}-\d{2}$/, `${where}: birthdate ${v} is not YYYY-MM-DD (OpenID Connect Core §5.1)`);
      assert.ok(recordStrings.some((s) => digits(s) === digits(v)),
        `${where}: birthdate ${v} is not the demo identity's`);
    } else if (n === 'phone_number') {
      assert.ok(recordStrings.some((s) => s === v || (digits(s).length >= 6 && digits(s) === digits(v))),
        `${where}: phone_number ${v} is not the demo identity's`);
    } else {
      assert.ok(recordStrings.some((s) => s === v),
        `${where}: ${n} ${JSON.stringify(v)} is not a value of the demo identity`);
    }
  }
}
