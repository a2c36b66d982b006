// ferry mb LOCATION [--versioning] [--object-lock [--default-retention MODE:DAYS]] [--acl NAME]
// / ferry rb LOCATION: create or remove an (empty) bucket, or an Azure container.
#include <cstdio>
#include <memory>

#include "app/wiring.h"
#include "cli/commands.h"
#include "storage/access.h"
#include "storage/azure/azure_backend.h"

namespace ferry::cli {
namespace {

struct BucketArgs {
  std::string target;
  bool versioning = false;
  bool object_lock = false;
  std::string default_retention;  // MODE:DAYS
  std::string acl;                // canned
};

// Creates the bucket, then enables what was asked: versioning (PutBucketVersioning), the
// default retention (PutObjectLockConfiguration). Object lock is asked at creation (S3 enables
// versioning with it; --object-lock alone is enough, --versioning says so explicitly).
Status Create(s3::S3Client& client, const std::string& bucket, const BucketArgs& a,
              std::stop_token stop) {
  s3::CreateBucketOptions options;
  options.object_lock = a.object_lock;
  if (!a.acl.empty()) {
    FERRY_ASSIGN_OR_RETURN(options.canned_acl, storage::ParseCannedAcl(a.acl));
  }
  std::optional<s3::DefaultRetention> rule;
  if (!a.default_retention.empty()) {
    if (!a.object_lock) {
      return Status::InvalidArgument("--default-retention needs --object-lock");
    }
    FERRY_ASSIGN_OR_RETURN(storage::RetentionRule r,
                           storage::ParseRetentionRule(a.default_retention));
    rule = s3::DefaultRetention{r.mode, r.days};
  }
  FERRY_RETURN_IF_ERROR(client.CreateBucket(bucket, stop, options));
  if (a.versioning && !a.object_lock) {
    FERRY_RETURN_IF_ERROR(client.PutBucketVersioning(bucket, true, stop)
                              .WithContext("enable versioning of s3://" + bucket));
  }
  if (a.object_lock) {
    // The store must say it took the object lock: one that ignored the header would leave a
    // bucket whose "locked" copies are not locked.
    FERRY_ASSIGN_OR_RETURN(s3::ObjectLockConfiguration config,
                           client.GetObjectLockConfiguration(bucket, stop));
    if (!config.enabled) {
      return Status::NotSupported("s3://" + bucket +
                                  " was created without object lock: the store ignored "
                                  "x-amz-bucket-object-lock-enabled");
    }
  }
  if (rule) {
    FERRY_RETURN_IF_ERROR(client.PutObjectLockConfiguration(bucket, rule, stop)
                              .WithContext("set the default retention of s3://" + bucket));
  }
  return Status::Ok();
}

// An Azure container (az://ACCOUNT/CONTAINER, or a remote with type = "azure"): Create
// Container, or Delete Container of an empty one (storage/azure/azure_backend.h).
int RunAzureContainer(const BucketArgs& a, bool create, const app::Location& loc,
                      app::Wiring& wiring, Context& ctx) {
  if (a.versioning || a.object_lock || !a.default_retention.empty() || !a.acl.empty()) {
    return ReportError(Status::InvalidArgument(
        "--versioning, --object-lock, --default-retention and --acl are for S3 buckets, not "
        "the Azure container " + a.target));
  }
  if (!loc.prefix.empty()) {
    return ReportError(Status::InvalidArgument("'" + a.target +
                                               "' names a prefix, not a container"));
  }
  auto backend = wiring.OpenBackend(loc, /*create_local=*/false);
  if (!backend.ok()) return ReportError(backend.status());
  auto* azure = dynamic_cast<storage::azure::AzureBackend*>(backend->get());
  if (azure == nullptr) return ReportError(Status::Internal(a.target + " is no Azure container"));
  Status s = create ? azure->CreateContainer(ctx.stop) : azure->DeleteEmptyContainer(ctx.stop);
  if (!s.ok()) return ReportError(s);
  std::string name = azure->Describe();
  if (name.ends_with('/')) name.pop_back();
  std::fprintf(stderr, "%s container %s\n", create ? "created" : "removed", name.c_str());
  return 0;
}

int Run(const BucketArgs& a, bool create, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto loc = app::ParseLocation(a.target);
  if (!loc.ok()) return ReportError(loc.status());
  const auto remote = config->remotes.find(loc->remote);
  const bool azure = loc->is_azure() || (loc->is_s3() && remote != config->remotes.end() &&
                                         remote->second.is_azure());
  if (!loc->is_s3() && !azure) {
    return ReportError(
        Status::InvalidArgument("'" + a.target + "' is not an S3 or Azure location"));
  }
  app::Wiring wiring(std::move(config).value());
  if (azure) return RunAzureContainer(a, create, *loc, wiring, ctx);
  auto client = wiring.ClientFor(*loc);
  if (!client.ok()) return ReportError(client.status());
  Status s = create ? Create(**client, loc->bucket, a, ctx.stop)
                    : (*client)->DeleteBucket(loc->bucket, ctx.stop);
  if (!s.ok()) return ReportError(s);
  std::string what = create ? "created" : "removed";
  if (create && a.object_lock) what += " (versioning, object lock)";
  else if (create && a.versioning) what += " (versioning)";
  std::fprintf(stderr, "%s bucket s3://%s\n", what.c_str(), loc->bucket.c_str());
  return 0;
}

}  // namespace

void RegisterBucket(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<BucketArgs>();
  CLI::App* mb = app.add_subcommand(
      "mb", "create a bucket (NAME:bucket or s3://bucket) or container (az://ACCOUNT/C)");
  mb->add_option("BUCKET", args->target, "bucket location")->required();
  mb->add_flag("--versioning", args->versioning, "enable versioning");
  mb->add_flag("--object-lock", args->object_lock,
               "create the bucket with S3 Object Lock (versioning enabled with it)");
  mb->add_option("--default-retention", args->default_retention,
                 "with --object-lock: the bucket's default retention, MODE:DAYS "
                 "(GOVERNANCE:30, COMPLIANCE:365)");
  mb->add_option("--acl", args->acl, "canned ACL of the bucket (private, public-read, ...)");
  mb->callback([args, &ctx] { ctx.exit_code = Run(*args, true, ctx); });
  auto args_rb = std::make_shared<BucketArgs>();
  CLI::App* rb = app.add_subcommand("rb", "remove an empty bucket or container");
  rb->add_option("BUCKET", args_rb->target, "bucket location")->required();
  rb->callback([args_rb, &ctx] { ctx.exit_code = Run(*args_rb, false, ctx); });
}

}  // namespace ferry::cli
