// ferry mb LOCATION / ferry rb LOCATION: create or remove an (empty) bucket.
#include <cstdio>
#include <memory>

#include "app/wiring.h"
#include "cli/commands.h"

namespace ferry::cli {
namespace {

int Run(const std::string& text, bool create, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto loc = app::ParseLocation(text);
  if (!loc.ok()) return ReportError(loc.status());
  if (!loc->is_s3()) {
    return ReportError(Status::InvalidArgument("'" + text + "' is not an S3 location"));
  }
  app::Wiring wiring(std::move(config).value());
  auto client = wiring.ClientFor(*loc);
  if (!client.ok()) return ReportError(client.status());
  Status s = create ? (*client)->CreateBucket(loc->bucket, ctx.stop)
                    : (*client)->DeleteBucket(loc->bucket, ctx.stop);
  if (!s.ok()) return ReportError(s);
  std::fprintf(stderr, "%s bucket s3://%s\n", create ? "created" : "removed", loc->bucket.c_str());
  return 0;
}

}  // namespace

void RegisterBucket(CLI::App& app, Context& ctx) {
  auto target = std::make_shared<std::string>();
  CLI::App* mb = app.add_subcommand("mb", "create a bucket (NAME:bucket or s3://bucket)");
  mb->add_option("BUCKET", *target, "bucket location")->required();
  mb->callback([target, &ctx] { ctx.exit_code = Run(*target, true, ctx); });
  auto target_rb = std::make_shared<std::string>();
  CLI::App* rb = app.add_subcommand("rb", "remove an empty bucket");
  rb->add_option("BUCKET", *target_rb, "bucket location")->required();
  rb->callback([target_rb, &ctx] { ctx.exit_code = Run(*target_rb, false, ctx); });
}

}  // namespace ferry::cli
