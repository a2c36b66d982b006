#include "app/providers.h"

namespace ferry::app {
namespace {

std::string Trimmed(std::string_view region, std::string_view prefix) {
  if (region.starts_with(prefix)) region.remove_prefix(prefix.size());
  return std::string(region);
}

}  // namespace

std::string_view KnownProviders() { return "aws, oss, cos, kodo, other"; }

bool IsKnownProvider(std::string_view p) {
  return p.empty() || p == "aws" || p == "oss" || p == "cos" || p == "kodo" || p == "other";
}

s3::Addressing DefaultAddressing(std::string_view provider) {
  return provider == "aws" || provider == "oss" || provider == "cos" || provider == "kodo"
             ? s3::Addressing::kVirtualHost
             : s3::Addressing::kPath;
}

Result<ProviderEndpoint> DefaultEndpoint(std::string_view provider, std::string_view region) {
  const std::string r(region);
  if (provider.empty() || provider == "aws") {
    const std::string aws_region = r.empty() ? std::string("us-east-1") : r;
    return ProviderEndpoint{"https://s3." + aws_region + ".amazonaws.com" +
                                (aws_region.starts_with("cn-") ? ".cn" : ""),
                            aws_region, s3::Addressing::kVirtualHost};
  }
  if (!IsKnownProvider(provider)) {
    return Status::InvalidArgument("unknown provider '" + std::string(provider) + "' (known: " +
                                   std::string(KnownProviders()) + ")");
  }
  if (provider == "other") {
    return Status::InvalidArgument("provider \"other\" needs an endpoint");
  }
  if (r.empty()) {
    return Status::InvalidArgument("provider \"" + std::string(provider) +
                                   "\" needs a region to find its endpoint (or give an endpoint)");
  }
  if (provider == "oss") {
    const std::string id = Trimmed(r, "oss-");
    return ProviderEndpoint{"https://s3.oss-" + id + ".aliyuncs.com", id,
                            s3::Addressing::kVirtualHost};
  }
  if (provider == "cos") {
    return ProviderEndpoint{"https://cos." + r + ".myqcloud.com", r,
                            s3::Addressing::kVirtualHost};
  }
  return ProviderEndpoint{"https://s3." + r + ".qiniucs.com", r, s3::Addressing::kVirtualHost};
}

}  // namespace ferry::app
