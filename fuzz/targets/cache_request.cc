// A cache fill request (a file given to `ferry cache`, or a body POSTed to `ferry serve`): others
// write these, so the reader bounds what it takes (cache/request.h).
#include <string>

#include "cache/request.h"
#include "fuzz/fuzz_target.h"

FERRY_FUZZ_TARGET(cache_request) {
  using namespace ferry::cache;
  const std::string_view text = ferry::fuzz::AsText(data, size);
  if (auto r = ParseRequestJson(text); r.ok()) {
    ferry::fuzz::Require(!r->prefixes.empty() && r->prefixes.size() <= kMaxRequestPrefixes,
                         "an accepted request has 1..max prefixes");
    for (const std::string& p : r->prefixes) {
      ferry::fuzz::Require(p.size() <= kMaxPrefixBytes, "a prefix within an S3 key's limit");
    }
    ferry::fuzz::Require(r->ttl.count() > 0, "an accepted TTL is positive");
  }
  if (auto ttl = ParseTtl(text); ttl.ok()) {
    ferry::fuzz::Require(ttl->count() > 0, "an accepted --ttl is positive");
  }
  return 0;
}
