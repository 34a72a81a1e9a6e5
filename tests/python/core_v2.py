"""Drives the emulator with the classic Alibaba Cloud SDK (aliyun-python-sdk-core with the
aliyun-python-sdk-ecs request classes), which signs with V2 (HMAC-SHA1) and sends POST with
the parameters in the query."""

import json

from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.utils import parameter_helper
from aliyunsdkecs.request.v20140526 import (
    DescribeInstanceStatusRequest,
    DescribeInstancesRequest,
    ModifyInstanceAttributeRequest,
    RebootInstanceRequest,
    RebootInstancesRequest,
    StartInstanceRequest,
    StartInstancesRequest,
    StopInstanceRequest,
)

import emulator
from emulator import check, expect_equal

SPECIAL_PASSWORD = "Ab1!@#$%^&*()_+-=[]{};:',.<>?"


def client(secret=emulator.KEY_SECRET, key_id=emulator.KEY_ID, region="cn-hangzhou"):
    return AcsClient(key_id, secret, region, auto_retry=False)


def call(request, region="cn-hangzhou", secret=emulator.KEY_SECRET, key_id=emulator.KEY_ID):
    request.set_endpoint(emulator.HOST)
    request.set_protocol_type("http")
    body = client(secret, key_id, region).do_action_with_exception(request)
    return json.loads(body)


def error_of(request, **options):
    try:
        call(request, **options)
    except ServerException as error:
        return error.get_http_status(), error.get_error_code()
    raise AssertionError("the call succeeded but should have failed")


def describe(**parameters):
    request = DescribeInstancesRequest.DescribeInstancesRequest()
    for name, value in parameters.items():
        getattr(request, f"set_{name}")(value)
    return call(request)


def ids(body):
    return [item["InstanceId"] for item in body["Instances"]["Instance"]]


@check
def describe_instances_by_ids_with_paging_and_total_count():
    body = describe(InstanceIds=json.dumps(["i-run", "i-stop", "i-nothing"]), PageSize=10)
    expect_equal(ids(body), ["i-run", "i-stop"], "ids")
    expect_equal(body["TotalCount"], 2, "TotalCount")
    first = body["Instances"]["Instance"][0]
    expect_equal((first["Status"], first["OSType"]), ("Running", "linux"), "first instance")
    page = describe(PageSize=3, PageNumber=2)
    expect_equal(len(ids(page)), 3, "second page size")


@check
def describe_instances_with_next_token_reaches_every_instance():
    seen, token = [], None
    while True:
        parameters = {"MaxResults": 10}
        if token:
            parameters["NextToken"] = token
        body = describe(**parameters)
        seen += ids(body)
        token = body.get("NextToken")
        if not token:
            break
    expect_equal(len(seen), len(set(seen)), "no duplicates")
    expect_equal("i-run" in seen and "i-sh" not in seen, True, "region's instances only")


@check
def describe_instances_filters_by_status():
    body = describe(Status="Stopped")
    expect_equal(all(item["Status"] == "Stopped" for item in body["Instances"]["Instance"]), True, "all stopped")
    expect_equal("i-stop" in ids(body), True, "i-stop listed")


@check
def describe_instance_status_lists_the_ids_asked():
    request = DescribeInstanceStatusRequest.DescribeInstanceStatusRequest()
    request.set_InstanceIds(["i-run", "i-stop"])
    body = call(request)
    statuses = {item["InstanceId"]: item["Status"] for item in body["InstanceStatuses"]["InstanceStatus"]}
    expect_equal(statuses, {"i-run": "Running", "i-stop": "Stopped"}, "statuses")


def modify(instance_id, password):
    request = ModifyInstanceAttributeRequest.ModifyInstanceAttributeRequest()
    request.set_InstanceId(instance_id)
    request.set_Password(password)
    return request


def reboot(instance_id, **options):
    request = RebootInstanceRequest.RebootInstanceRequest()
    request.set_InstanceId(instance_id)
    request.set_ForceStop(False)
    for name, value in options.items():
        getattr(request, f"set_{name}")(value)
    return request


def start(instance_id, **options):
    request = StartInstanceRequest.StartInstanceRequest()
    request.set_InstanceId(instance_id)
    for name, value in options.items():
        getattr(request, f"set_{name}")(value)
    return request


def stop(instance_id, **options):
    request = StopInstanceRequest.StopInstanceRequest()
    request.set_InstanceId(instance_id)
    request.set_ForceStop(False)
    for name, value in options.items():
        getattr(request, f"set_{name}")(value)
    return request


def batch(request_class, instance_ids, **options):
    request = request_class()
    request.set_InstanceIds(instance_ids)
    for name, value in options.items():
        getattr(request, f"set_{name}")(value)
    return request


def codes_of(body):
    return {item["InstanceId"]: item["Code"] for item in body["InstanceResponses"]["InstanceResponse"]}


@check
def password_is_pending_until_reboot_then_effective():
    call(modify("i-run", SPECIAL_PASSWORD))
    inside = emulator.instance("i-run")
    expect_equal(inside["pending_password"], SPECIAL_PASSWORD, "pending password")
    expect_equal(inside["effective_password"], "Initial#Pass1", "effective password before")
    call(reboot("i-run"))
    expect_equal(emulator.instance("i-run")["status"], "Starting", "status after reboot")
    expect_equal(error_of(modify("i-run", "Another#Pass1")), (403, "IncorrectInstanceStatus"), "reset while Starting")
    expect_equal(error_of(reboot("i-run")), (403, "IncorrectInstanceStatus"), "reboot while Starting")
    expect_equal(emulator.instance("i-run")["pending_password"], SPECIAL_PASSWORD, "pending password kept")
    emulator.wait_for_status("i-run", "Running")
    inside = emulator.instance("i-run")
    expect_equal(inside["effective_password"], SPECIAL_PASSWORD, "effective password after")
    expect_equal(inside["pending_password"], None, "pending password after")


@check
def stopped_instance_gets_its_password_at_start():
    expect_equal(error_of(modify("i-stop", "/Windows#Pass1")), (400, "InvalidPassword.Malformed"), "Windows slash rule")
    call(modify("i-stop", "Windows#Pass1"))
    call(start("i-stop"))
    emulator.wait_for_status("i-stop", "Running")
    expect_equal(emulator.instance("i-stop")["effective_password"], "Windows#Pass1", "effective password")


@check
def preconditions_are_refused_with_documented_codes():
    expect_equal(error_of(start("i-halt")), (403, "IncorrectInstanceStatus"), "start a Running instance")
    expect_equal(error_of(reboot("i-lock")), (403, "InstanceLockedForSecurity"), "reboot a locked instance")
    expect_equal(error_of(modify("i-lock", "Locked#Pass1")), (403, "InstanceLockedForSecurity"), "reset a locked instance")
    expect_equal(error_of(start("i-lock")), (403, "InstanceLockedForSecurity"), "start a locked instance")
    expect_equal(error_of(stop("i-lock")), (403, "InstanceLockedForSecurity"), "stop a locked instance")
    expect_equal(error_of(reboot("i-nothing")), (404, "InvalidInstanceId.NotFound"), "unknown instance")
    expect_equal(error_of(modify("i-nothing", "Unknown#Pass1")), (404, "InvalidInstanceId.NotFound"), "reset an unknown instance")
    expect_equal(error_of(reboot("i-sh")), (404, "InvalidInstanceId.NotFound"), "instance of another region")
    expect_equal(error_of(modify("i-halt", "weak")), (400, "InvalidPassword.Malformed"), "weak password")
    # The SDK sends the space as `+`: a policy error, not a signature error, shows it was decoded.
    expect_equal(error_of(modify("i-halt", "Has Space#12")), (400, "InvalidPassword.Malformed"), "password with a space")
    expect_equal(emulator.instance("i-halt")["pending_password"], None, "refused resets changed nothing")
    expect_equal(error_of(reboot("i-halt", DryRun=True)), (400, "DryRunOperation"), "dry run")
    expect_equal(emulator.instance("i-halt")["status"], "Running", "dry run changed nothing")


@check
def stop_instance_goes_through_stopping():
    request = StopInstanceRequest.StopInstanceRequest()
    request.set_InstanceId("i-halt")
    request.set_ForceStop(False)
    call(request)
    emulator.wait_for_status("i-halt", "Stopped")
    expect_equal(error_of(reboot("i-halt")), (403, "IncorrectInstanceStatus"), "reboot a Stopped instance")
    expect_equal(error_of(request), (403, "IncorrectInstanceStatus"), "stop a Stopped instance")


@check
def batch_start_and_reboot_answer_per_instance():
    request = StartInstancesRequest.StartInstancesRequest()
    request.set_InstanceIds(["i-batch1", "i-batch3"])
    request.set_BatchOptimization("SuccessFirst")
    body = call(request)
    codes = {item["InstanceId"]: item["Code"] for item in body["InstanceResponses"]["InstanceResponse"]}
    expect_equal(codes, {"i-batch1": "200", "i-batch3": "IncorrectInstanceStatus"}, "StartInstances codes")
    request = RebootInstancesRequest.RebootInstancesRequest()
    request.set_InstanceIds(["i-batch3", "i-batch4"])
    body = call(request)
    codes = [item["Code"] for item in body["InstanceResponses"]["InstanceResponse"]]
    expect_equal(codes, ["200", "200"], "RebootInstances codes")
    expect_equal(emulator.instance("i-batch4")["status"], "Starting", "rebooted")


@check
def reboot_instances_answers_per_instance_or_fails_whole():
    body = call(batch(RebootInstancesRequest.RebootInstancesRequest, ["i-fill02", "i-batch2"], BatchOptimization="SuccessFirst"))
    expect_equal(codes_of(body), {"i-fill02": "200", "i-batch2": "IncorrectInstanceStatus"}, "RebootInstances codes")
    expect_equal(emulator.instance("i-fill02")["status"], "Starting", "the Running one rebooted")
    request = batch(RebootInstancesRequest.RebootInstancesRequest, ["i-fill03", "i-batch2"])
    expect_equal(error_of(request), (403, "IncorrectInstanceStatus"), "AllTogether with a Stopped instance")
    expect_equal(emulator.instance("i-fill03")["status"], "Running", "AllTogether rebooted nothing")


@check
def dry_runs_check_preconditions_and_change_nothing():
    expect_equal(error_of(start("i-batch2", DryRun=True)), (400, "DryRunOperation"), "StartInstance dry run")
    expect_equal(error_of(stop("i-fill00", DryRun=True)), (400, "DryRunOperation"), "StopInstance dry run")
    expect_equal(error_of(stop("i-batch2", DryRun=True)), (403, "IncorrectInstanceStatus"), "dry run of an impossible stop")
    request = DescribeInstancesRequest.DescribeInstancesRequest()
    request.set_DryRun(True)
    expect_equal(error_of(request), (400, "DryRunOperation"), "DescribeInstances dry run")
    body = call(batch(StartInstancesRequest.StartInstancesRequest, ["i-batch2"], BatchOptimization="SuccessFirst", DryRun=True))
    expect_equal(codes_of(body), {"i-batch2": "DRYRUN.SUCCESS"}, "StartInstances dry run")
    body = call(batch(RebootInstancesRequest.RebootInstancesRequest, ["i-fill01"], BatchOptimization="SuccessFirst", DryRun=True))
    expect_equal(codes_of(body), {"i-fill01": "DRYRUN.SUCCESS"}, "RebootInstances dry run")
    statuses = [emulator.instance(name)["status"] for name in ("i-batch2", "i-fill00", "i-fill01")]
    expect_equal(statuses, ["Stopped", "Running", "Running"], "statuses after the dry runs")


@check
def get_requests_are_signed_and_served_too():
    request = DescribeInstancesRequest.DescribeInstancesRequest()
    request.set_method("GET")
    request.set_InstanceIds(json.dumps(["i-run"]))
    expect_equal(ids(call(request)), ["i-run"], "ids over GET")


@check
def malformed_requests_get_missing_or_invalid_parameter():
    expect_equal(error_of(RebootInstanceRequest.RebootInstanceRequest()), (400, "MissingParameter"), "no InstanceId")
    request = DescribeInstancesRequest.DescribeInstancesRequest()
    request.set_PageSize(101)
    expect_equal(error_of(request), (400, "InvalidParameter"), "PageSize above 100")
    request = DescribeInstancesRequest.DescribeInstancesRequest()
    request.set_Status("Sleeping")
    expect_equal(error_of(request), (404, "InvalidStatus.NotFound"), "unknown status filter")


@check
def batch_all_together_fails_whole_and_changes_nothing():
    request = StartInstancesRequest.StartInstancesRequest()
    request.set_InstanceIds(["i-batch2", "i-batch3"])
    expect_equal(error_of(request), (403, "IncorrectInstanceStatus"), "AllTogether with a Running instance")
    expect_equal(emulator.instance("i-batch2")["status"], "Stopped", "nothing started")


@check
def wrong_secret_is_reported_by_the_sdk_as_an_incorrect_secret():
    # The SDK compares the server's string to sign with its own and, when they are equal,
    # blames the secret: so this also proves the emulator canonicalizes exactly as the SDK.
    status, code = error_of(describe_request(), secret="not-the-secret")
    expect_equal((status, code), (400, "InvalidAccessKeySecret"), "wrong secret")


def describe_request():
    request = DescribeInstancesRequest.DescribeInstancesRequest()
    request.set_InstanceName("web *")
    return request


@check
def unknown_access_key_is_not_found():
    status, code = error_of(describe_request(), key_id="nobody")
    expect_equal((status, code), (404, "InvalidAccessKeyId.NotFound"), "unknown key")


@check
def replayed_nonce_is_refused():
    original = parameter_helper.get_uuid
    parameter_helper.get_uuid = lambda: "core-sdk-fixed-nonce"
    try:
        call(describe_request())
        expect_equal(error_of(describe_request()), (400, "SignatureNonceUsed"), "replayed nonce")
    finally:
        parameter_helper.get_uuid = original


@check
def stale_timestamp_is_refused():
    original = parameter_helper.get_iso_8061_date
    parameter_helper.get_iso_8061_date = lambda: "2020-01-01T00:00:00Z"
    try:
        expect_equal(error_of(describe_request()), (400, "InvalidTimeStamp.Expired"), "stale timestamp")
    finally:
        parameter_helper.get_iso_8061_date = original


if __name__ == "__main__":
    emulator.run()
