"""A release written to real S3-compatible object storage: moto's server on localhost, one bucket per region."""

from __future__ import annotations

import hashlib
import os

import pytest

from conftest import run_terroir, write_policy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def s3_server():
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    old = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="terroir", AWS_SECRET_ACCESS_KEY="terroir", AWS_DEFAULT_REGION="eu-north-1")
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-north-1")
    for bucket in ("terroir-eu", "terroir-uk"):
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    yield endpoint, client
    server.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _policy(endpoint: str, eu_bucket: str = "terroir-eu") -> str:
    q = f"endpoint_override={endpoint}&scheme=http&region=eu-north-1"
    return f"""
policy_id: s3-test
residency:
  regions:
    eu:
      jurisdictions: [SE, DE, FI, FR, ES, NL, IT]
      storage: "s3://{eu_bucket}/demo?{q}"
      allowed_locations: ["s3://terroir-eu"]
    uk:
      jurisdictions: [GB]
      storage: "s3://terroir-uk/demo?{q}"
      allowed_locations: ["s3://terroir-uk"]
sources:
  demo-library: {{jurisdiction: FI, license: CC0-1.0}}
  demo-tei: {{jurisdiction: SE, license: CC0-1.0}}
  demo-dumps: {{license: CC-BY-4.0, id_field: id}}
admission:
  languages: {{en: 0.5, de: 0.5, fr: 0.5, sv: 0.5, fi: 0.5, es: 0.5, nl: 0.5, it: 0.5}}
"""


def test_release_is_written_to_each_regions_bucket(s3_server, tmp_path):
    from pipelines.tools.demo import demo_inputs, generate

    endpoint, client = s3_server
    data = tmp_path / "data"
    generate(data)
    policy = write_policy(tmp_path / "policy.yaml", _policy(endpoint))
    res = run_terroir(policy, demo_inputs(data), tmp_path / "out")
    shards = res.manifest["shards"]
    assert {s["residency_region"] for s in shards} == {"eu", "uk"}
    for s in shards:
        bucket = "terroir-eu" if s["residency_region"] == "eu" else "terroir-uk"
        assert s["path"].startswith(f"s3://{bucket}/demo/")
        key = s["path"].removeprefix(f"s3://{bucket}/")
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == s["sha256"] and len(body) == s["bytes"]
    # nothing of one region in the other's bucket, and nothing left under the local output but the release files
    uk_keys = [o["Key"] for o in client.list_objects_v2(Bucket="terroir-uk").get("Contents", [])]
    assert uk_keys and all(k.startswith("demo/") for k in uk_keys)
    assert not (tmp_path / "out" / "shards").exists()


def test_missing_bucket_fails_preflight(s3_server, tmp_path, shared):
    from pipelines.run import ConfigError

    endpoint, _ = s3_server
    policy = write_policy(tmp_path / "policy.yaml", _policy(endpoint, eu_bucket="terroir-eu-missing").replace(
        'allowed_locations: ["s3://terroir-eu"]', 'allowed_locations: ["s3://terroir-eu-missing"]'))  # fmt: skip
    with pytest.raises(ConfigError, match="region eu: storage s3://terroir-eu-missing/demo.* not reachable"):
        run_terroir(policy, [str(shared / "tei")], tmp_path / "out")
