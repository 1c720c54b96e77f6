#!/bin/sh
# The service's namespace, made once the server answers (the server image, unlike auto-setup, makes
# none). Over mutual TLS with the admin tools' own certificate: the TEMPORAL_ADDRESS, TEMPORAL_TLS_*
# variables of the temporal CLI. Safe to repeat: a namespace that exists is left as it is.
set -eu

NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${TEMPORAL_NAMESPACE_RETENTION:-30d}

attempt=1
until temporal operator cluster health >/dev/null 2>&1; do
    if [ "$attempt" -ge 30 ]; then
        echo "Temporal at $TEMPORAL_ADDRESS did not answer"
        temporal operator cluster health
        exit 1
    fi
    attempt=$((attempt + 1))
    sleep 2
done

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
    echo "namespace $NAMESPACE exists"
else
    temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
    echo "namespace $NAMESPACE created (closed cases' histories kept $RETENTION)"
fi
