#!/bin/sh
# The certificates for mutual TLS between Temporal and everything that talks to it, from one private CA.
#
#   deploy/temporal/make-certs.sh [DIR]        (default: deploy/temporal/certs)
#
# Makes, in DIR:
#   ca.pem, ca.key            the CA; keep ca.key offline once the certificates are made
#   temporal.pem, .key        the Temporal server: its frontend to clients, and its services to each other
#                             (so it is a server and a client certificate both)
#   api, worker, temporal-ui, admin-tools (.pem, .key)
#                             one client certificate each: the frontend accepts only these (requireClientAuth)
#
# The server certificate names "temporal" (the compose service), localhost and 127.0.0.1; add the names
# Kubernetes or a load balancer uses with TEMPORAL_SERVER_NAMES="temporal-frontend.temporal.svc,...".
# A file that exists is kept: delete a certificate (and its key) to make it again, e.g. before it expires
# (the leaves last DAYS, 397 by default; the CA ten years).
#
# DIR is private to its owner (0700). The files inside are readable (0644) because compose mounts each
# one, as a secret, into a container whose user is not the host's; nothing else should reach DIR.
set -eu

DIR=${1:-$(dirname "$0")/certs}
DAYS=${DAYS:-397}
SERVER_NAMES=${TEMPORAL_SERVER_NAMES:-}
CLIENTS="api worker temporal-ui admin-tools"

mkdir -p "$DIR"
chmod 700 "$DIR"
cd "$DIR"
umask 022

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

if [ ! -f ca.pem ]; then
    new_key ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=Safeguarding Learning Loop Temporal CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out ca.pem
    echo "made ca.pem"
fi

# sign NAME "extensions": a key and a certificate signed by the CA.
sign() {
    name=$1
    extensions=$2
    [ -f "$name.pem" ] && return 0
    new_key "$name.key"
    openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr"
    printf '%s\n' "$extensions" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days "$DAYS" \
        -extfile "$name.ext" -out "$name.pem"
    rm -f "$name.csr" "$name.ext"
    echo "made $name.pem"
}

alt_names="DNS:temporal,DNS:localhost,IP:127.0.0.1"
for extra in $(echo "$SERVER_NAMES" | tr ',' ' '); do
    alt_names="$alt_names,DNS:$extra"
done
sign temporal "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$alt_names"

for client in $CLIENTS; do
    sign "$client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
subjectAltName=DNS:$client"
done

chmod 600 ca.key
chmod 644 ./*.pem
for key in ./*.key; do
    [ "$key" = ./ca.key ] || chmod 644 "$key"
done
rm -f ca.srl
echo "certificates in $(pwd)"
