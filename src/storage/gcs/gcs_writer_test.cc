// GcsBackend's resumable uploads against a fake session (a FakeTransport handler that keeps
// bytes in order, as GCS does): parts written out of order are sent in order, a service that
// keeps fewer bytes than it was sent gets the rest again, a resumed session starts where the
// service says, the final chunk carries the whole object's CRC32C.
#include <gtest/gtest.h>

#include <charconv>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>

#include "checksum/checksum.h"
#include "storage/gcs/gcs_backend.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::storage::gcs {
namespace {

using testing::FakeReply;
constexpr uint64_t kKiB = 1024;
const char* const kSessionUri =
    "http://127.0.0.1:3/upload/storage/v1/b/bkt/o?uploadType=resumable&name=obj&upload_id=s1";

// One resumable session of object "obj": what it kept, the requests' Content-Range headers.
class FakeGcsSession {
 public:
  // At most `keep_per_request` bytes of a chunk are kept (a multiple of 256 KiB; 0 = all).
  explicit FakeGcsSession(uint64_t keep_per_request = 0) : keep_(keep_per_request) {}

  FakeReply Handle(const http::HttpRequest& req) {
    std::lock_guard lock(mu_);
    FakeReply reply = HandleKept(req);
    // a chunk kept, its reply lost on the way back (a connection cut)
    if (req.method == "PUT" && !req.body.empty() && cut_.erase(++chunks_) > 0) {
      return FakeReply::NetworkError(Status::Unavailable("connection reset"));
    }
    return reply;
  }

  // The n-th request carrying bytes (1 = the first) is kept but its reply lost.
  void CutReplyOf(int n) {
    std::lock_guard lock(mu_);
    cut_.insert(n);
  }

  // Bytes the session keeps before the test starts (a resumed upload).
  void Preload(std::string bytes) { kept_ = std::move(bytes); }
  std::string kept() const {
    std::lock_guard lock(mu_);
    return kept_;
  }
  std::vector<std::string> ranges() const {
    std::lock_guard lock(mu_);
    return ranges_;
  }
  std::vector<std::string> hashes() const {
    std::lock_guard lock(mu_);
    return hashes_;
  }

 private:
  FakeReply HandleKept(const http::HttpRequest& req) {
    if (req.method == "POST") {  // the session's start
      http::Headers h;
      h.Set("Location", kSessionUri);
      return FakeReply::Ok("", h);
    }
    const std::string range = req.headers.Get("Content-Range");
    ranges_.push_back(range);
    hashes_.push_back(req.headers.Get("X-Goog-Hash"));
    if (ended_) return Finished();  // GCS answers a finished session with its object
    // "bytes A-B/T", "bytes */T", T "*" while unknown
    const size_t slash = range.rfind('/');
    const std::string total = range.substr(slash + 1);
    if (range.compare(0, 8, "bytes */") != 0) {
      uint64_t first = 0;
      std::from_chars(range.data() + 6, range.data() + range.size(), first);
      if (first != kept_.size()) return Status400();
      std::string body(reinterpret_cast<const char*>(req.body.data()), req.body.size());
      const bool last = total != "*" && first + body.size() == std::stoull(total);
      if (keep_ != 0 && !last && body.size() > keep_) body.resize(keep_);
      kept_ += body;
    }
    if (total != "*" && kept_.size() == std::stoull(total)) {
      ended_ = true;
      return Finished();
    }
    http::Headers h;
    if (!kept_.empty()) h.Set("Range", "bytes=0-" + std::to_string(kept_.size() - 1));
    FakeReply r;
    r.status = 308;
    r.headers = h;
    return r;
  }

  static FakeReply Status400() {
    FakeReply r;
    r.status = 400;
    r.body = R"({"error":{"code":400,"message":"chunk not at the session's end"}})";
    return r;
  }
  FakeReply Finished() const {
    const nlohmann::json o = {
        {"name", "obj"},
        {"size", std::to_string(kept_.size())},
        {"generation", "7"},
        {"crc32c", Crc32cBase64(checksum::Crc32c(checksum::AsBytes(kept_)))}};
    return FakeReply::Ok(o.dump());
  }

  mutable std::mutex mu_;
  const uint64_t keep_;
  std::set<int> cut_;
  int chunks_ = 0;
  bool ended_ = false;
  std::string kept_;
  std::vector<std::string> ranges_;
  std::vector<std::string> hashes_;
};

struct GcsWriterFixture {
  testing::FakeTransport http;
  testing::FakeClock clock;
  FakeGcsSession session;
  GcsClient client;
  GcsBackend backend;
  explicit GcsWriterFixture(uint64_t keep_per_request = 0)
      : session(keep_per_request), client(Options(clock), http), backend(client, "bkt", "") {
    http.SetHandler([this](const http::HttpRequest& r) { return session.Handle(r); });
  }
  static GcsOptions Options(Clock& clock) {
    GcsOptions o;
    o.credentials.endpoint = "http://127.0.0.1:3";
    o.credentials.anonymous = true;
    o.clock = &clock;
    return o;
  }
};

std::string GcsTestBytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 2654435761u + seed) >> 13);
  return s;
}

std::span<const std::byte> PartOf(const std::string& s, uint64_t offset, uint64_t n) {
  return checksum::AsBytes(std::string_view(s).substr(offset, n));
}

WriteSpec SpecOfSize(uint64_t n) {
  WriteSpec spec;
  spec.size = n;
  return spec;
}

TEST(GcsChunkWriter, PartsWrittenOutOfOrderAreSentInOrderWithTheWholeCrc) {
  GcsWriterFixture f;
  const uint64_t part = 256 * kKiB;
  const std::string body = GcsTestBytes(2 * part + 100, 1);
  auto writer = f.backend.OpenChunkWriter("obj", SpecOfSize(body.size()), part, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_EQ((*writer)->upload_id(), kSessionUri);
  ASSERT_TRUE((*writer)->WriteChunk(3, 2 * part, PartOf(body, 2 * part, 100), {}).ok());
  ASSERT_TRUE((*writer)->WriteChunk(2, part, PartOf(body, part, part), {}).ok());
  EXPECT_TRUE(f.session.ranges().empty()) << "nothing sent before part 1";
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, PartOf(body, 0, part), {}).ok());
  auto done = (*writer)->Commit({});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->etag, "7");  // no MD5 in the resource: the generation
  EXPECT_EQ(f.session.kept(), body);
  EXPECT_EQ(f.session.ranges(),
            (std::vector<std::string>{"bytes 0-262143/*", "bytes 262144-524287/*",
                                      "bytes 524288-524387/524388"}));
  EXPECT_EQ(f.session.hashes().back(),
            "crc32c=" + Crc32cBase64(checksum::Crc32c(checksum::AsBytes(body))));
}

TEST(GcsChunkWriter, BytesTheServiceDidNotKeepAreSentAgain) {
  GcsWriterFixture f(/*keep_per_request=*/256 * kKiB);
  const uint64_t part = 512 * kKiB;
  const std::string body = GcsTestBytes(2 * part + 7, 2);
  auto writer = f.backend.OpenChunkWriter("obj", SpecOfSize(body.size()), part, {});
  ASSERT_TRUE(writer.ok());
  for (int i = 0; i < 3; ++i) {
    const uint64_t off = static_cast<uint64_t>(i) * part;
    const uint64_t n = std::min<uint64_t>(part, body.size() - off);
    ASSERT_TRUE((*writer)->WriteChunk(i + 1, off, PartOf(body, off, n), {}).ok()) << i;
  }
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(f.session.kept(), body) << "every byte once, in order";
  const auto ranges = f.session.ranges();
  ASSERT_GE(ranges.size(), 3u);
  EXPECT_EQ(ranges[0], "bytes 0-524287/*");
  EXPECT_EQ(ranges[1], "bytes 262144-1048575/*") << "the unkept half goes ahead of part 2";
}

TEST(GcsChunkWriter, AChunkKeptWhoseReplyWasCutIsNotSentAgain) {
  // the service refuses (400) a chunk that does not continue where it stands: a blind resend
  // of a kept chunk fails the upload; the writer asks the session instead
  GcsWriterFixture f;
  f.session.CutReplyOf(1);
  f.session.CutReplyOf(3);  // the last chunk: the session ended, its reply lost
  const uint64_t part = 256 * kKiB;
  const std::string body = GcsTestBytes(2 * part + 10, 4);
  auto writer = f.backend.OpenChunkWriter("obj", SpecOfSize(body.size()), part, {});
  ASSERT_TRUE(writer.ok());
  for (int i = 0; i < 3; ++i) {
    const uint64_t off = static_cast<uint64_t>(i) * part;
    const uint64_t n = std::min<uint64_t>(part, body.size() - off);
    Status s = (*writer)->WriteChunk(i + 1, off, PartOf(body, off, n), {});
    ASSERT_TRUE(s.ok()) << i << ": " << s.ToString();
  }
  auto done = (*writer)->Commit({});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->etag, "7");
  EXPECT_EQ(f.session.kept(), body) << "every byte once, in order";
  EXPECT_EQ(f.session.ranges(),
            (std::vector<std::string>{"bytes 0-262143/*", "bytes */*", "bytes 262144-524287/*",
                                      "bytes 524288-524297/524298", "bytes */*"}));
  EXPECT_EQ(f.client.retries(), 2u);
  EXPECT_EQ(f.clock.sleeps().size(), 2u) << "a backoff before asking";
}

TEST(GcsChunkWriter, AChunkPartlyKeptBeforeAFailureSendsOnlyTheRest) {
  // a 503 after the service kept the first 256 KiB of a 512 KiB chunk
  GcsWriterFixture f(/*keep_per_request=*/256 * kKiB);
  f.session.CutReplyOf(1);
  const uint64_t part = 512 * kKiB;
  const std::string body = GcsTestBytes(part + 5, 5);
  auto writer = f.backend.OpenChunkWriter("obj", SpecOfSize(body.size()), part, {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, PartOf(body, 0, part), {}).ok());
  ASSERT_TRUE((*writer)->WriteChunk(2, part, PartOf(body, part, 5), {}).ok());
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(f.session.kept(), body);
  const auto ranges = f.session.ranges();
  ASSERT_GE(ranges.size(), 3u);
  EXPECT_EQ(ranges[0], "bytes 0-524287/*");
  EXPECT_EQ(ranges[1], "bytes */*");
  EXPECT_EQ(ranges[2], "bytes 262144-524287/*") << "only the half not kept";
}

TEST(GcsChunkWriter, ResumedSessionStartsWhereTheServiceStands) {
  GcsWriterFixture f;
  const uint64_t part = 256 * kKiB;
  const std::string body = GcsTestBytes(2 * part, 3);
  f.session.Preload(body.substr(0, part));
  auto resumed = f.backend.ResumeChunkWriter("obj", kSessionUri, SpecOfSize(body.size()), part, {});
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  auto stored = (*resumed)->ListStoredParts({});
  ASSERT_TRUE(stored.ok() && stored->has_value());
  ASSERT_EQ((*stored)->size(), 1u);
  EXPECT_EQ((*stored)->front().part_number, 1);
  (*resumed)->AdoptPartChecked((*stored)->front(),
                               checksum::Crc32c(PartOf(body, 0, part)));
  ASSERT_TRUE((*resumed)->WriteChunk(2, part, PartOf(body, part, part), {}).ok());
  ASSERT_TRUE((*resumed)->Commit({}).ok());
  EXPECT_EQ(f.session.kept(), body);
  EXPECT_EQ(f.session.ranges(),
            (std::vector<std::string>{"bytes */*", "bytes 262144-524287/524288"}));
  EXPECT_EQ(f.session.hashes().back(),
            "crc32c=" + Crc32cBase64(checksum::Crc32c(checksum::AsBytes(body))));
}

TEST(GcsChunkWriter, ForeignSessionUriIsNotFoundWithoutARequest) {
  GcsWriterFixture f;
  for (const std::string& uri :
       {std::string("http://elsewhere:1/upload/storage/v1/b/bkt/o?name=obj&upload_id=x"),
        std::string("http://127.0.0.1:3/upload/storage/v1/b/bkt/o?name=other&upload_id=x"),
        std::string("no-such-upload")}) {
    auto r = f.backend.ResumeChunkWriter("obj", uri, SpecOfSize(1), 256 * kKiB, {});
    EXPECT_EQ(r.status().code(), ErrorCode::kNotFound) << uri;
  }
  EXPECT_EQ(f.http.request_count(), 0u) << "the token goes to this endpoint only";
}

}  // namespace
}  // namespace ferry::storage::gcs
