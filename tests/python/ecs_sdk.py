"""Drives the emulator with the current Alibaba Cloud ECS SDK (alibabacloud-ecs20140526 on
alibabacloud-tea-openapi). Run with `v3` for its default signature, ACS3-HMAC-SHA256, or `v2`
for `signature_algorithm='v2'` (HMAC-SHA1)."""

import json
import sys

from alibabacloud_ecs20140526 import models
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_tea_openapi.utils_models import Config

import emulator
from emulator import check, expect_equal

SIGNATURE = sys.argv[1] if len(sys.argv) > 1 else "v3"
SPECIAL_PASSWORD = "Zy9~`|{}[]<>?/,.;:'=+-_)(*&^%$#"[:30]


def client(secret=emulator.KEY_SECRET, key_id=emulator.KEY_ID):
    config = Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=emulator.HOST,
        protocol="http",
        region_id="cn-hangzhou",
    )
    if SIGNATURE == "v2":
        config.signature_algorithm = "v2"
    return Client(config)


def call(operation, request, **options):
    response = getattr(client(**options), operation)(request)
    return response.body.to_map()


def error_of(operation, request, **options):
    try:
        call(operation, request, **options)
    except AlibabaCloudException as error:
        status = getattr(error, "status_code", None) or (error.data or {}).get("statusCode")
        return status, error.code
    raise AssertionError(f"{operation} succeeded but should have failed")


def ids(body):
    return [item["InstanceId"] for item in body["Instances"]["Instance"]]


def describe(**fields):
    return call("describe_instances", models.DescribeInstancesRequest(region_id="cn-hangzhou", **fields))


@check
def describe_instances_by_ids_with_paging_and_total_count():
    body = describe(instance_ids=json.dumps(["i-run", "i-stop", "i-nothing"]), page_size=10)
    expect_equal(ids(body), ["i-run", "i-stop"], "ids")
    expect_equal(body["TotalCount"], 2, "TotalCount")
    first = body["Instances"]["Instance"][0]
    expect_equal((first["Status"], first["OSType"]), ("Running", "linux"), "first instance")
    expect_equal(len(ids(describe(page_size=3, page_number=2))), 3, "second page size")


@check
def describe_instances_with_next_token_reaches_every_instance():
    seen, token = [], None
    while True:
        body = describe(max_results=10, next_token=token)
        seen += ids(body)
        token = body.get("NextToken")
        if not token:
            break
    expect_equal(len(seen), len(set(seen)), "no duplicates")
    expect_equal("i-run" in seen and "i-sh" not in seen, True, "region's instances only")


@check
def describe_instances_filters_by_status():
    body = describe(status="Stopped")
    expect_equal(all(item["Status"] == "Stopped" for item in body["Instances"]["Instance"]), True, "all stopped")


@check
def describe_instance_status_lists_the_ids_asked():
    request = models.DescribeInstanceStatusRequest(region_id="cn-hangzhou", instance_id=["i-run", "i-stop"])
    body = call("describe_instance_status", request)
    statuses = {item["InstanceId"]: item["Status"] for item in body["InstanceStatuses"]["InstanceStatus"]}
    expect_equal(statuses, {"i-run": "Running", "i-stop": "Stopped"}, "statuses")


def modify(instance_id, password):
    return ("modify_instance_attribute", models.ModifyInstanceAttributeRequest(instance_id=instance_id, password=password))


def reboot(instance_id, **fields):
    return ("reboot_instance", models.RebootInstanceRequest(instance_id=instance_id, force_stop=False, **fields))


def start(instance_id, **fields):
    return ("start_instance", models.StartInstanceRequest(instance_id=instance_id, **fields))


def stop(instance_id, **fields):
    return ("stop_instance", models.StopInstanceRequest(instance_id=instance_id, force_stop=False, **fields))


def codes_of(body):
    return {item["InstanceId"]: item["Code"] for item in body["InstanceResponses"]["InstanceResponse"]}


@check
def password_is_pending_until_reboot_then_effective():
    call(*modify("i-run", SPECIAL_PASSWORD))
    inside = emulator.instance("i-run")
    expect_equal(inside["pending_password"], SPECIAL_PASSWORD, "pending password")
    expect_equal(inside["effective_password"], "Initial#Pass1", "effective password before")
    call(*reboot("i-run"))
    expect_equal(emulator.instance("i-run")["status"], "Starting", "status after reboot")
    expect_equal(error_of(*modify("i-run", "Another#Pass1")), (403, "IncorrectInstanceStatus"), "reset while Starting")
    expect_equal(error_of(*reboot("i-run")), (403, "IncorrectInstanceStatus"), "reboot while Starting")
    expect_equal(emulator.instance("i-run")["pending_password"], SPECIAL_PASSWORD, "pending password kept")
    emulator.wait_for_status("i-run", "Running")
    inside = emulator.instance("i-run")
    expect_equal(inside["effective_password"], SPECIAL_PASSWORD, "effective password after")
    expect_equal(inside["pending_password"], None, "pending password after")


@check
def stopped_instance_gets_its_password_at_start():
    expect_equal(error_of(*modify("i-stop", "/Windows#Pass1")), (400, "InvalidPassword.Malformed"), "Windows slash rule")
    call(*modify("i-stop", "Windows#Pass1"))
    call(*start("i-stop"))
    emulator.wait_for_status("i-stop", "Running")
    expect_equal(emulator.instance("i-stop")["effective_password"], "Windows#Pass1", "effective password")


@check
def preconditions_are_refused_with_documented_codes():
    expect_equal(error_of(*start("i-halt")), (403, "IncorrectInstanceStatus"), "start a Running instance")
    expect_equal(error_of(*reboot("i-lock")), (403, "InstanceLockedForSecurity"), "reboot a locked instance")
    expect_equal(error_of(*modify("i-lock", "Locked#Pass1")), (403, "InstanceLockedForSecurity"), "reset a locked instance")
    expect_equal(error_of(*start("i-lock")), (403, "InstanceLockedForSecurity"), "start a locked instance")
    expect_equal(error_of(*stop("i-lock")), (403, "InstanceLockedForSecurity"), "stop a locked instance")
    expect_equal(error_of(*reboot("i-nothing")), (404, "InvalidInstanceId.NotFound"), "unknown instance")
    expect_equal(error_of(*modify("i-nothing", "Unknown#Pass1")), (404, "InvalidInstanceId.NotFound"), "reset an unknown instance")
    sh = ("reboot_instances", models.RebootInstancesRequest(region_id="cn-hangzhou", instance_id=["i-sh"]))
    expect_equal(error_of(*sh), (404, "InvalidInstanceId.NotFound"), "instance of another region")
    expect_equal(error_of(*modify("i-halt", "weak")), (400, "InvalidPassword.Malformed"), "weak password")
    # The SDK sends the space as `+`: a policy error, not a signature error, shows it was decoded.
    expect_equal(error_of(*modify("i-halt", "Has Space#12")), (400, "InvalidPassword.Malformed"), "password with a space")
    expect_equal(emulator.instance("i-halt")["pending_password"], None, "refused resets changed nothing")
    expect_equal(error_of(*reboot("i-halt", dry_run=True)), (400, "DryRunOperation"), "dry run")
    expect_equal(emulator.instance("i-halt")["status"], "Running", "dry run changed nothing")


@check
def stop_instance_goes_through_stopping():
    call("stop_instance", models.StopInstanceRequest(instance_id="i-halt", force_stop=False, stopped_mode="KeepCharging"))
    emulator.wait_for_status("i-halt", "Stopped")
    expect_equal(error_of(*reboot("i-halt")), (403, "IncorrectInstanceStatus"), "reboot a Stopped instance")
    stop = models.StopInstanceRequest(instance_id="i-halt")
    expect_equal(error_of("stop_instance", stop), (403, "IncorrectInstanceStatus"), "stop a Stopped instance")


@check
def batch_start_and_reboot_answer_per_instance():
    request = models.StartInstancesRequest(region_id="cn-hangzhou", instance_id=["i-batch1", "i-batch3"], batch_optimization="SuccessFirst")
    body = call("start_instances", request)
    codes = {item["InstanceId"]: item["Code"] for item in body["InstanceResponses"]["InstanceResponse"]}
    expect_equal(codes, {"i-batch1": "200", "i-batch3": "IncorrectInstanceStatus"}, "StartInstances codes")
    request = models.RebootInstancesRequest(region_id="cn-hangzhou", instance_id=["i-batch3", "i-batch4"], force_reboot=False)
    body = call("reboot_instances", request)
    codes = [item["Code"] for item in body["InstanceResponses"]["InstanceResponse"]]
    expect_equal(codes, ["200", "200"], "RebootInstances codes")
    expect_equal(emulator.instance("i-batch4")["status"], "Starting", "rebooted")


@check
def reboot_instances_answers_per_instance_or_fails_whole():
    request = models.RebootInstancesRequest(region_id="cn-hangzhou", instance_id=["i-fill02", "i-batch2"], batch_optimization="SuccessFirst")
    expect_equal(codes_of(call("reboot_instances", request)), {"i-fill02": "200", "i-batch2": "IncorrectInstanceStatus"}, "RebootInstances codes")
    expect_equal(emulator.instance("i-fill02")["status"], "Starting", "the Running one rebooted")
    request = models.RebootInstancesRequest(region_id="cn-hangzhou", instance_id=["i-fill03", "i-batch2"])
    expect_equal(error_of("reboot_instances", request), (403, "IncorrectInstanceStatus"), "AllTogether with a Stopped instance")
    expect_equal(emulator.instance("i-fill03")["status"], "Running", "AllTogether rebooted nothing")


@check
def dry_runs_check_preconditions_and_change_nothing():
    expect_equal(error_of(*start("i-batch2", dry_run=True)), (400, "DryRunOperation"), "StartInstance dry run")
    expect_equal(error_of(*stop("i-fill00", dry_run=True)), (400, "DryRunOperation"), "StopInstance dry run")
    expect_equal(error_of(*stop("i-batch2", dry_run=True)), (403, "IncorrectInstanceStatus"), "dry run of an impossible stop")
    describe_dry = models.DescribeInstancesRequest(region_id="cn-hangzhou", dry_run=True)
    expect_equal(error_of("describe_instances", describe_dry), (400, "DryRunOperation"), "DescribeInstances dry run")
    request = models.StartInstancesRequest(region_id="cn-hangzhou", instance_id=["i-batch2"], batch_optimization="SuccessFirst", dry_run=True)
    expect_equal(codes_of(call("start_instances", request)), {"i-batch2": "DRYRUN.SUCCESS"}, "StartInstances dry run")
    request = models.RebootInstancesRequest(region_id="cn-hangzhou", instance_id=["i-fill01"], batch_optimization="SuccessFirst", dry_run=True)
    expect_equal(codes_of(call("reboot_instances", request)), {"i-fill01": "DRYRUN.SUCCESS"}, "RebootInstances dry run")
    statuses = [emulator.instance(name)["status"] for name in ("i-batch2", "i-fill00", "i-fill01")]
    expect_equal(statuses, ["Stopped", "Running", "Running"], "statuses after the dry runs")


@check
def malformed_requests_get_missing_or_invalid_parameter():
    expect_equal(error_of("reboot_instance", models.RebootInstanceRequest()), (400, "MissingParameter"), "no InstanceId")
    expect_equal(error_of("describe_instances", models.DescribeInstancesRequest(region_id="cn-hangzhou", page_size=101)), (400, "InvalidParameter"), "PageSize above 100")
    expect_equal(error_of("describe_instances", models.DescribeInstancesRequest(region_id="cn-hangzhou", status="Sleeping")), (404, "InvalidStatus.NotFound"), "unknown status filter")


@check
def batch_all_together_fails_whole_and_changes_nothing():
    request = models.StartInstancesRequest(region_id="cn-hangzhou", instance_id=["i-batch2", "i-batch3"])
    expect_equal(error_of("start_instances", request), (403, "IncorrectInstanceStatus"), "AllTogether with a Running instance")
    expect_equal(emulator.instance("i-batch2")["status"], "Stopped", "nothing started")


def describe_request():
    return ("describe_instances", models.DescribeInstancesRequest(region_id="cn-hangzhou", instance_name="web *"))


@check
def wrong_secret_is_refused_as_a_signature_mismatch():
    try:
        call(*describe_request(), secret="not-the-secret")
    except AlibabaCloudException as error:
        expect_equal(error.code, "SignatureDoesNotMatch", "code")
        marker = "server string to sign is:"
        expect_equal(marker in error.message, True, f"message names the server's string to sign: {error.message!r}")
        server_string = error.message.split(marker, 1)[1]
        expected_start = "ACS3-HMAC-SHA256\n" if SIGNATURE == "v3" else "POST&%2F&AccessKeyId%3Dtestid%26"
        expect_equal(server_string.startswith(expected_start), True, f"string to sign {server_string!r}")
        return
    raise AssertionError("a wrong secret was accepted")


@check
def unknown_access_key_is_not_found():
    expect_equal(error_of(*describe_request(), key_id="nobody"), (404, "InvalidAccessKeyId.NotFound"), "unknown key")


@check
def replayed_nonce_is_refused():
    original = Utils.get_nonce
    Utils.get_nonce = staticmethod(lambda: f"ecs-sdk-{SIGNATURE}-fixed-nonce")
    try:
        call(*describe_request())
        expect_equal(error_of(*describe_request()), (400, "SignatureNonceUsed"), "replayed nonce")
    finally:
        Utils.get_nonce = original


@check
def stale_timestamp_is_refused():
    original = Utils.get_timestamp
    Utils.get_timestamp = staticmethod(lambda: "2020-01-01T00:00:00Z")
    try:
        expect_equal(error_of(*describe_request()), (400, "InvalidTimeStamp.Expired"), "stale timestamp")
    finally:
        Utils.get_timestamp = original


if __name__ == "__main__":
    emulator.run()
