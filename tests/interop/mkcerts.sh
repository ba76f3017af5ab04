#!/usr/bin/env bash
# mkcerts.sh DIR: throwaway PKI for the interop tests and scripts/demo, made
# with the openssl CLI. Idempotent: does nothing when DIR/.done exists.
#
#   ca.crt                 trusted CA (ECDSA P-256)
#   server-{p256,p384,rsa,ed25519}.{crt,key}
#                          "localhost" + IP 127.0.0.1, serverAuth, from ca
#   client-{p256,rsa}.{crt,key}  clientAuth, from ca
#   evil-ca.crt            a second CA nobody trusts
#   evil-server.{crt,key}  a "localhost" leaf from evil-ca
set -euo pipefail
dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
cd "$dir"
[ -e .done ] && exit 0

days=3650
newkey() { # newkey TYPE FILE
	case $1 in
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" ;;
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$2" ;;
	esac 2>/dev/null
}
mkca() { # mkca NAME CN
	newkey p256 "$1.key"
	openssl req -x509 -new -key "$1.key" -out "$1.crt" -days "$days" -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # leaf CA NAME KEYTYPE CN EKU [SAN]
	local ca=$1 name=$2 type=$3 cn=$4 eku=$5 san=${6:-} ku=digitalSignature
	# RSA key transport suites encrypt to the server key (RFC 5246 §7.4.7.1).
	[ "$type" = rsa ] && ku=digitalSignature,keyEncipherment
	newkey "$type" "$name.key"
	openssl req -new -key "$name.key" -subj "/O=tlshim interop/CN=$cn" -out "$name.csr"
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,$ku"
		echo "extendedKeyUsage=$eku"
		[ -n "$san" ] && echo "subjectAltName=$san"
	} >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
		-days "$days" -extfile "$name.ext" -out "$name.crt" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

mkca ca "tlshim interop CA"
for t in p256 p384 rsa ed25519; do
	leaf ca "server-$t" "$t" localhost serverAuth "DNS:localhost,IP:127.0.0.1"
done
leaf ca client-p256 p256 "interop client p256" clientAuth
leaf ca client-rsa rsa "interop client rsa" clientAuth
mkca evil-ca "untrusted interop CA"
leaf evil-ca evil-server p256 localhost serverAuth "DNS:localhost,IP:127.0.0.1"
rm -f ./*.srl
touch .done
