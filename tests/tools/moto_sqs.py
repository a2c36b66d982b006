"""SQS and S3 on a moto_server for tests/cli/serve_sqs_test.sh, through the botocore that
Debian's awscli ships (one process per step instead of one `aws` process per call).

    moto_sqs.py ENDPOINT setup BUCKET        queues (events + its dead-letter queue `refused`
                                             by RedrivePolicy, maxReceiveCount 2; events2
                                             without one + refused2), the bucket (versioned)
                                             notifying `events` of ObjectCreated:*
    moto_sqs.py ENDPOINT send QUEUE BODY     one message
    moto_sqs.py ENDPOINT count QUEUE         messages in the queue, visible and in flight: "V F"
    moto_sqs.py ENDPOINT peek QUEUE          one message's body and String attributes (JSON),
                                             taken with a visibility timeout of 0

Credentials: anything (moto checks none); region us-east-1; account 123456789012.
"""
import json
import sys

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from awscli.botocore.config import Config  # noqa: E402
from awscli.botocore.session import Session  # noqa: E402

ENDPOINT = sys.argv[1]
ACCOUNT = "123456789012"
REGION = "us-east-1"


def client(service):
    return Session().create_client(
        service, endpoint_url=ENDPOINT, aws_access_key_id="test", aws_secret_access_key="test",
        region_name=REGION, config=Config(s3={"addressing_style": "path"}))


def url(queue):
    return "%s/%s/%s" % (ENDPOINT, ACCOUNT, queue)


def arn(queue):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, queue)


def setup(bucket):
    sqs = client("sqs")
    for name in ("refused", "refused2"):
        sqs.create_queue(QueueName=name)
    # a refused message comes back after 1 s; the queue's RedrivePolicy moves it after 2
    sqs.create_queue(QueueName="events", Attributes={
        "VisibilityTimeout": "1",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn("refused"),
                                     "maxReceiveCount": 2})})
    sqs.create_queue(QueueName="events2", Attributes={"VisibilityTimeout": "1"})
    s3 = client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "ferry", "QueueArn": arn("events"),
                                 "Events": ["s3:ObjectCreated:*"]}]})


def main():
    what = sys.argv[2]
    if what == "setup":
        setup(sys.argv[3])
    elif what == "send":
        client("sqs").send_message(QueueUrl=url(sys.argv[3]), MessageBody=sys.argv[4])
    elif what == "count":
        a = client("sqs").get_queue_attributes(
            QueueUrl=url(sys.argv[3]),
            AttributeNames=["ApproximateNumberOfMessages",
                            "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        print(a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"])
    elif what == "peek":
        got = client("sqs").receive_message(QueueUrl=url(sys.argv[3]), MaxNumberOfMessages=1,
                                            VisibilityTimeout=0, MessageAttributeNames=["All"])
        m = (got.get("Messages") or [{}])[0]
        print(json.dumps({"body": m.get("Body"),
                          "attributes": {k: v.get("StringValue") for k, v in
                                         (m.get("MessageAttributes") or {}).items()}}))
    else:
        sys.exit("unknown step " + what)


main()
