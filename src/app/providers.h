// Providers: the S3-compatible stores ferry knows by name (a remote's `provider`), and what
// each needs that a plain endpoint does not say — the endpoint of a region, the addressing it
// requires, the region requests are signed for. From the vendors' documentation of their S3
// APIs:
//
//   aws   https://s3.REGION.amazonaws.com; the China regions (cn-north-1, cn-northwest-1,
//         partition aws-cn) https://s3.REGION.amazonaws.com.cn; virtual-hosted
//   oss   Alibaba Cloud OSS: https://s3.oss-REGION.aliyuncs.com (REGION as cn-hangzhou; an
//         "oss-" prefix is accepted), virtual-hosted only, signed for REGION. New accounts in
//         mainland China must use a custom domain for data requests: give it as `endpoint`.
//   cos   Tencent Cloud COS: https://cos.REGION.myqcloud.com (ap-guangzhou), virtual-hosted
//         (bucket names carry the account's APPID: name-1250000000)
//   kodo  Qiniu Kodo: https://s3.REGION.qiniucs.com (cn-east-1, cn-north-1, cn-south-1,
//         us-north-1, ap-southeast-1, ...), virtual-hosted
//   other any other S3-compatible store: its `endpoint` is required, path-style by default
//
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "s3/types.h"

namespace ferry::app {

struct ProviderEndpoint {
  std::string endpoint;       // scheme://host, no trailing slash
  std::string region;         // the region requests are signed for
  s3::Addressing addressing;  // what the provider requires (a remote's `addressing` wins)
};

// The known names, for messages: "aws, oss, cos, kodo, other".
std::string_view KnownProviders();

// Whether `provider` is one of them ("" counts as aws).
bool IsKnownProvider(std::string_view provider);

// The endpoint of `provider` in `region` when the remote gives none. kInvalidArgument when the
// provider needs a region and has none, or is "other" (it needs an endpoint), or is unknown.
Result<ProviderEndpoint> DefaultEndpoint(std::string_view provider, std::string_view region);

// The addressing a remote of `provider` with an endpoint of its own gets by default: virtual
// hosts for the providers that require them, path style for "other" (RGW, MinIO, Swift).
s3::Addressing DefaultAddressing(std::string_view provider);

}  // namespace ferry::app
