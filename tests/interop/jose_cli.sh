#!/bin/sh
# Interop with Debian's `jose` command (latchset José 11, OpenSSL based): it verifies our RS256,
# PS256 and ECDSA tokens, signs tokens we must verify, and computes the same RFC 7638
# thumbprints. José 11 has no EdDSA and no working RSA-OAEP on OpenSSL 3, so those are left to
# the Node.js test. Exits 77 (ctest SKIP) when `jose` is missing. Usage: jose_cli.sh ESG_JOSE
set -u
esg=$1
if ! command -v jose >/dev/null 2>&1; then
  echo "SKIP: the jose command is not installed (apt-get install jose, or tools/setup.sh --test)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
printf '{"iss":"https://idp.example","sub":"interop"}' > "$dir/payload"

for alg in RS256 RS384 PS256 PS512 ES256 ES384 ES512; do
  case $alg in
    RS*|PS*) spec=RSA-2048 ;;
    ES256) spec=P-256 ;;
    ES384) spec=P-384 ;;
    ES512) spec=P-521 ;;
  esac
  # Ours -> jose.
  "$esg" keygen "$spec" --alg "$alg" > "$dir/ours.jwk"
  "$esg" sign -k "$dir/ours.jwk" -a "$alg" < "$dir/payload" | tr -d '\n' > "$dir/ours.jws"
  if jose jws ver -i "$dir/ours.jws" -k "$dir/ours.jwk" -O "$dir/got" && cmp -s "$dir/got" "$dir/payload"; then
    ok "$alg: esg-jose signs, jose verifies"
  else
    bad "$alg: esg-jose signs, jose verifies"
  fi
  # jose -> ours.
  jose jwk gen -i "{\"alg\":\"$alg\"}" -o "$dir/theirs.jwk"
  jose jws sig -I "$dir/payload" -k "$dir/theirs.jwk" -c -o "$dir/theirs.jws"
  if "$esg" verify -k "$dir/theirs.jwk" -a "$alg" < "$dir/theirs.jws" > "$dir/got" && cmp -s "$dir/got" "$dir/payload"; then
    ok "$alg: jose signs, esg-jose verifies"
  else
    bad "$alg: jose signs, esg-jose verifies"
  fi
  # The wrong key must fail.
  if "$esg" verify -k "$dir/ours.jwk" -a "$alg" < "$dir/theirs.jws" > /dev/null 2>&1; then
    bad "$alg: verification with another key fails"
  else
    ok "$alg: verification with another key fails"
  fi
  # Thumbprints. José 11 prints the value without a terminator, so only its first 43 bytes count.
  for k in ours theirs; do
    want=$(jose jwk thp -i "$dir/$k.jwk" -a S256 | head -c 43)
    got=$("$esg" thumbprint -k "$dir/$k.jwk")
    if [ -n "$want" ] && [ "$want" = "$got" ]; then
      ok "$alg: thumbprint of $k key"
    else
      bad "$alg: thumbprint of $k key ($got, jose: $want)"
    fi
  done
  # PEM export (for Apache and openssl): a signature made by openssl with the PEM private key
  # verifies with the JWK's public PEM, and the two PEMs hold the same public key.
  "$esg" pem -k "$dir/ours.jwk" > "$dir/ours.key.pem"
  "$esg" pub-pem -k "$dir/ours.jwk" > "$dir/ours.pub.pem"
  if openssl pkey -in "$dir/ours.key.pem" -pubout 2>/dev/null | cmp -s - "$dir/ours.pub.pem" &&
    openssl dgst -sha256 -sign "$dir/ours.key.pem" -out "$dir/sig" "$dir/payload" &&
    openssl dgst -sha256 -verify "$dir/ours.pub.pem" -signature "$dir/sig" "$dir/payload" >/dev/null; then
    ok "$alg: PEM export matches the JWK"
  else
    bad "$alg: PEM export matches the JWK"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
