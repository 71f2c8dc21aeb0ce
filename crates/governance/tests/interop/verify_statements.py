"""Verifies DSSE envelopes of in-toto statements with implementations other than ours:
securesystemslib's DSSE (ed25519 through pyca/cryptography) and the in-toto-attestation
bindings (Statement v1 validation, predicates parsed strictly into their protobuf schemas).

usage: verify_statements.py PUBLIC_KEY_HEX KEYID ENVELOPE...
Each envelope must verify; exit 1 naming the first that does not.
"""

import json
import sys

from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.predicates.test_result.v0 import test_result_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

PREDICATES = {
    "https://slsa.dev/provenance/v1": provenance_pb2.Provenance,
    "https://in-toto.io/attestation/test-result/v0.1": test_result_pb2.TestResult,
}


def check(path, key):
    with open(path, "rb") as f:
        envelope = Envelope.from_dict(json.load(f))
    if envelope.payload_type != "application/vnd.in-toto+json":
        raise ValueError(f"payloadType {envelope.payload_type!r}")
    envelope.verify([key], 1)
    statement = json.loads(envelope.payload)
    proto = json_format.ParseDict(statement, statement_pb2.Statement())
    Statement.copy_from_pb(proto).validate()
    predicate_type = statement["predicateType"]
    # Strict: a field the predicate's schema does not define is an error.
    json_format.ParseDict(statement["predicate"], PREDICATES[predicate_type]())
    return predicate_type


def main():
    public_hex, keyid, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    key = SSlibKey(keyid, "ed25519", "ed25519", {"public": public_hex})
    for path in paths:
        try:
            predicate_type = check(path, key)
        except Exception as err:  # every failure is reported the same way
            print(f"FAILED {path}: {type(err).__name__}: {err}")
            sys.exit(1)
        print(f"verified {path}: {predicate_type}")


if __name__ == "__main__":
    main()
