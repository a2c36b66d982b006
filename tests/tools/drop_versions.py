"""drop_versions.py REMOTE BUCKET [--bucket]: deletes every version and delete marker of BUCKET on
REMOTE (ra or rb), one DeleteObject each (RGW 16.2.15 aborts on a DeleteObjects in a bucket that
notifies a topic), page by page; with --bucket, the bucket too. Used by the CLI tests' cleanup
(testlib.bash drop_versions): the common cleanup's sync --delete leaves a versioned bucket's history.
"""
import sys

from s3_check import S3


def main():
    remote, bucket = sys.argv[1], sys.argv[2]
    s3 = S3[remote]
    kwargs = {"Bucket": bucket}
    while True:
        listed = s3.list_object_versions(**kwargs)
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        if not listed.get("IsTruncated"):
            break
        kwargs = {"Bucket": bucket, "KeyMarker": listed["NextKeyMarker"],
                  "VersionIdMarker": listed["NextVersionIdMarker"]}
    if "--bucket" in sys.argv[3:]:
        s3.delete_bucket(Bucket=bucket)


if __name__ == "__main__":
    main()
