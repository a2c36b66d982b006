// GetObject: whole object or a byte range, streamed into the caller's sink.
#include <string>

#include "s3/client_internal.h"

namespace ferry::s3 {
namespace {

// Checks that a ranged reply really starts where asked before any byte reaches the caller,
// and forwards everything else (including Rewind, so retries restart the caller's sink).
class RangeCheckedSink : public http::BodySink {
 public:
  RangeCheckedSink(http::BodySink& out, ByteRange range, std::string_view name)
      : out_(out), range_(range), name_(name) {}

  Status Begin(int status, const http::Headers& headers) override {
    const bool ranged = range_.offset > 0 || range_.length > 0;
    if (ranged && status == 200) {
      // The server ignored Range. Harmless only when the whole object is what was asked for.
      const ObjectHead head = ParseObjectHead(headers);
      if (range_.offset != 0 || (range_.length != 0 && head.size > range_.length)) {
        return Status::NotSupported("server ignored the Range header for " + name_);
      }
    } else if (ranged && status == 206) {
      const std::string content_range = headers.Get("Content-Range");  // bytes a-b/total
      const size_t start = content_range.find_first_of("0123456789");
      if (start == std::string::npos ||
          std::to_string(range_.offset) !=
              content_range.substr(start, content_range.find('-') - start)) {
        return Status::Internal("unexpected Content-Range \"" + content_range + "\" for " + name_ +
                                " (asked from byte " + std::to_string(range_.offset) + ")");
      }
    }
    return out_.Begin(status, headers);
  }
  Status Write(std::span<const std::byte> data) override { return out_.Write(data); }
  bool Rewind() override { return out_.Rewind(); }

 private:
  http::BodySink& out_;
  const ByteRange range_;
  const std::string name_;
};

std::string RangeHeader(ByteRange range) {
  std::string v = "bytes=" + std::to_string(range.offset) + "-";
  if (range.length > 0) v += std::to_string(range.offset + range.length - 1);
  return v;
}

}  // namespace

Result<ObjectHead> S3Client::GetObject(const GetObjectRequest& request, http::BodySink& out,
                                       std::stop_token stop) {
  const ByteRange range = request.range;
  RangeCheckedSink sink(out, range, DisplayName(request.bucket, request.key));
  RequestSpec spec;
  spec.bucket = request.bucket;
  spec.key = request.key;
  spec.sink = &sink;
  if (!request.version_id.empty()) spec.query.emplace_back("versionId", request.version_id);
  if (range.offset > 0 || range.length > 0) {
    spec.headers.Set("Range", RangeHeader(range));
  } else {
    AskForChecksum(spec.headers);  // a whole object's reply tells it (range replies do not)
  }
  if (!request.if_match.empty()) {
    spec.headers.Set("If-Match", Quoted(request.if_match));
  }
  if (!request.customer_key.empty()) {
    AddSseHeaders(Encryption::Customer(request.customer_key), SseRequest::kRead, spec.headers);
  }
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  return ParseObjectHead(reply.headers);
}

}  // namespace ferry::s3
