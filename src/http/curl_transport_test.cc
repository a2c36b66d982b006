// CurlTransport against a tiny HTTP/1.1 server on 127.0.0.1 (port 0): testing::LoopbackHttpServer.
#include "http/curl_transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "testing/loopback_http_server.h"

namespace ferry::http {
namespace {

using namespace std::chrono_literals;
using LoopbackServer = ferry::testing::LoopbackHttpServer;
using Received = ferry::testing::ReceivedRequest;

std::string Reply(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

// Records the order of sink calls.
class RecordingSink : public BodySink {
 public:
  Status Begin(int status, const Headers& headers) override {
    events.push_back("begin " + std::to_string(status));
    begin_headers = headers;
    return Status::Ok();
  }
  Status Write(std::span<const std::byte> data) override {
    events.push_back("write");
    body.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::Ok();
  }
  std::vector<std::string> events;
  Headers begin_headers;
  std::string body;
};

std::span<const std::byte> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(CurlTransportTest, GetDeliversStatusHeadersAndBodyInOrder) {
  LoopbackServer server([](const Received&, bool&) {
    return Reply(200, "hello", "X-Amz-Version-Id: v1\r\nETag: \"abc\"\r\n");
  });
  CurlTransport transport;
  HttpRequest req;
  req.url = server.Url("/bucket/key?x=1");
  RecordingSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status_code, 200);
  EXPECT_EQ(resp->headers.Get("x-amz-version-id"), "v1");
  EXPECT_EQ(resp->headers.Get("etag"), "\"abc\"");
  EXPECT_EQ(resp->body_bytes, 5u);
  EXPECT_EQ(sink.body, "hello");
  ASSERT_FALSE(sink.events.empty());
  EXPECT_EQ(sink.events.front(), "begin 200");
  EXPECT_EQ(sink.begin_headers.Get("x-amz-version-id"), "v1");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].target, "/bucket/key?x=1");
  EXPECT_FALSE(server.requests()[0].Has("accept-encoding"));  // no automatic decompression
}

TEST(CurlTransportTest, SendsDotSegmentsInThePathAsIs) {
  LoopbackServer server([](const Received&, bool&) { return Reply(200, ""); });
  CurlTransport transport;
  HttpRequest req;
  req.url = server.Url("/bucket/../x/./y");
  StringSink sink;
  ASSERT_TRUE(transport.Send(req, sink, {}).ok());
  EXPECT_EQ(server.requests().at(0).target, "/bucket/../x/./y");
}

TEST(CurlTransportTest, ConnectToSendsEveryHostToOneAddressKeepingTheUrlsHost) {
  LoopbackServer server([](const Received&, bool&) { return Reply(200, "here"); });
  const std::string local = server.Url("");  // http://127.0.0.1:PORT
  CurlTransport transport({.connect_timeout_ms = 10000,
                           .low_speed_time_s = 30,
                           .default_timeout_ms = 0,
                           .ca_bundle = "",
                           .verify_tls = true,
                           .connect_to = local.substr(local.find("127.0.0.1"))});
  HttpRequest req;
  req.url = "http://sns.us-east-1.amazonaws.com/a.pem";  // never looked up
  StringSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(sink.body(), "here");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/a.pem");
  EXPECT_EQ(server.requests()[0].Get("host"), "sns.us-east-1.amazonaws.com");
}

TEST(CurlTransportTest, EmptyPutSendsContentLengthZero) {
  LoopbackServer server([](const Received&, bool&) { return Reply(200, ""); });
  CurlTransport transport;
  HttpRequest req;
  req.method = "PUT";
  req.url = server.Url("/b/empty");
  req.headers.Add("x-amz-meta-empty", "");
  RecordingSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_EQ(server.requests().size(), 1u);
  const Received got = server.requests()[0];
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.Get("content-length"), "0");
  EXPECT_FALSE(got.Has("expect"));
  EXPECT_FALSE(got.Has("transfer-encoding"));
  EXPECT_EQ(got.Get("x-amz-meta-empty"), "");
  EXPECT_EQ(sink.events, std::vector<std::string>{"begin 200"});  // Begin even without a body
}

TEST(CurlTransportTest, LargePutSendsExactBodyWithoutExpectContinue) {
  LoopbackServer server([](const Received&, bool&) { return Reply(200, ""); });
  CurlTransport transport;
  std::string body(3 << 20, 'x');
  for (size_t i = 0; i < body.size(); i += 4099) body[i] = static_cast<char>('a' + i % 26);
  HttpRequest req;
  req.method = "PUT";
  req.url = server.Url("/b/big");
  req.headers.Add("Content-Length", "999");  // ignored: the transport sets the real length
  req.body = Bytes(body);
  StringSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].Get("content-length"), std::to_string(body.size()));
  EXPECT_FALSE(server.requests()[0].Has("expect"));
  EXPECT_TRUE(server.requests()[0].body == body);
}

TEST(CurlTransportTest, PostAndDeleteUseTheirMethods) {
  LoopbackServer server([](const Received&, bool&) { return Reply(200, "<ok/>"); });
  CurlTransport transport;
  std::string xml = "<Delete/>";
  HttpRequest post;
  post.method = "POST";
  post.url = server.Url("/b?delete");
  post.body = Bytes(xml);
  StringSink sink;
  ASSERT_TRUE(transport.Send(post, sink, {}).ok());
  HttpRequest del;
  del.method = "DELETE";
  del.url = server.Url("/b/k");
  StringSink sink2;
  ASSERT_TRUE(transport.Send(del, sink2, {}).ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].body, xml);
  EXPECT_FALSE(reqs[0].Has("content-type"));  // no form content type added behind our back
  EXPECT_EQ(reqs[1].method, "DELETE");
  EXPECT_EQ(sink.body(), "<ok/>");
}

TEST(CurlTransportTest, HeadReportsHeadersWithoutBody) {
  LoopbackServer server([](const Received&, bool&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: \"e\"\r\n\r\n");
  });
  CurlTransport transport;
  HttpRequest req;
  req.method = "HEAD";
  req.url = server.Url("/b/k");
  RecordingSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status_code, 200);
  EXPECT_EQ(resp->headers.Get("content-length"), "1234");
  EXPECT_EQ(resp->body_bytes, 0u);
  EXPECT_EQ(sink.events, std::vector<std::string>{"begin 200"});
  EXPECT_EQ(server.requests()[0].method, "HEAD");
}

TEST(CurlTransportTest, InterimResponsesAreSkipped) {
  LoopbackServer server([](const Received&, bool&) {
    return std::string(
        "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
        "HTTP/1.1 201 Created\r\nX-Final: yes\r\nContent-Length: 2\r\n\r\nok");
  });
  CurlTransport transport;
  HttpRequest req;
  req.method = "PUT";
  req.url = server.Url("/b/k");
  std::string body = "data";
  req.body = Bytes(body);
  RecordingSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status_code, 201);
  EXPECT_EQ(resp->headers.Find("x-interim"), nullptr);
  EXPECT_EQ(resp->headers.Get("x-final"), "yes");
  EXPECT_EQ(sink.events.front(), "begin 201");
  EXPECT_EQ(sink.body, "ok");
}

TEST(CurlTransportTest, ReusesHandleAndConnection) {
  LoopbackServer server([](const Received&, bool&) { return Reply(200, "x"); });
  CurlTransport transport;
  for (int i = 0; i < 5; ++i) {
    HttpRequest req;
    req.method = i % 2 ? "HEAD" : "GET";
    req.url = server.Url("/k" + std::to_string(i));
    StringSink sink;
    auto resp = transport.Send(req, sink, {});
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(sink.body(), i % 2 ? "" : "x");
  }
  EXPECT_EQ(transport.handles_created(), 1u);
  EXPECT_EQ(transport.idle_handles(), 1u);
  EXPECT_EQ(server.connections(), 1);
}

// A handle keeps its header lines between requests: each request sends exactly its own
// headers, whether it has more or fewer than the one before, and a refused header name leaves
// the handle fit for the next request.
TEST(CurlTransportTest, ARequestOnAReusedHandleSendsExactlyItsOwnHeaders) {
  LoopbackServer server([](const Received&, bool&) { return Reply(200, ""); });
  CurlTransport transport;
  auto send = [&](std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest req;
    req.method = "PUT";
    req.url = server.Url("/b/k");
    for (const auto& [name, value] : headers) req.headers.Add(name, value);
    RecordingSink sink;
    return transport.Send(req, sink, {});
  };
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 20; ++i) {
    many.emplace_back("x-amz-meta-h" + std::to_string(i), std::string(40 + i, 'a' + i % 26));
  }
  ASSERT_TRUE(send(many).ok());
  ASSERT_TRUE(send({{"x-amz-meta-one", "1"}, {"Content-Type", "text/plain"}}).ok());
  EXPECT_FALSE(send({{"bad:name", "v"}}).ok());
  ASSERT_TRUE(send({{"x-amz-meta-two", ""}}).ok());
  EXPECT_EQ(transport.handles_created(), 1u);

  ASSERT_EQ(server.requests().size(), 3u);
  auto custom = [](const Received& r) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, value] : r.headers) {
      if (name.starts_with("x-amz-") || name == "content-type") out.emplace_back(name, value);
    }
    return out;
  };
  std::vector<std::pair<std::string, std::string>> want_many;
  for (int i = 0; i < 20; ++i) {
    want_many.emplace_back("x-amz-meta-h" + std::to_string(i), std::string(40 + i, 'a' + i % 26));
  }
  EXPECT_EQ(custom(server.requests()[0]), want_many);
  EXPECT_EQ(custom(server.requests()[1]),
            (std::vector<std::pair<std::string, std::string>>{{"x-amz-meta-one", "1"},
                                                              {"content-type", "text/plain"}}));
  EXPECT_EQ(custom(server.requests()[2]),
            (std::vector<std::pair<std::string, std::string>>{{"x-amz-meta-two", ""}}));
  EXPECT_FALSE(server.requests()[2].Has("expect"));
  EXPECT_FALSE(server.requests()[2].Has("accept"));
}

TEST(CurlTransportTest, ErrorStatusIsASuccessfulSend) {
  LoopbackServer server(
      [](const Received&, bool&) { return Reply(503, "<Error><Code>SlowDown</Code></Error>"); });
  CurlTransport transport;
  HttpRequest req;
  req.url = server.Url("/b/k");
  StringSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status_code, 503);
  EXPECT_EQ(sink.body(), "<Error><Code>SlowDown</Code></Error>");
}

TEST(CurlTransportTest, TruncatedBodyIsUnavailable) {
  LoopbackServer server([](const Received&, bool& close) {
    close = true;
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
  });
  CurlTransport transport;
  HttpRequest req;
  req.url = server.Url("/b/k");
  StringSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), ErrorCode::kUnavailable) << resp.status().ToString();
}

// A HEAD whose connection drops inside the headers: libcurl calls it a success, but the
// headers (metadata, tags count, content type) are incomplete and must never be used.
TEST(CurlTransportTest, ReplyCutOffInsideItsHeadersIsUnavailable) {
  LoopbackServer server([](const Received&, bool& close) {
    close = true;
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: \"e\"\r\nx-amz-me");
  });
  CurlTransport transport;
  HttpRequest req;
  req.method = "HEAD";
  req.url = server.Url("/b/k");
  RecordingSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), ErrorCode::kUnavailable) << resp.status().ToString();
}

TEST(CurlTransportTest, RecoversFromServerClosingKeepAliveConnection) {
  LoopbackServer server([](const Received&, bool& close) {
    close = true;  // the server drops every connection after replying
    return Reply(200, "x");
  });
  CurlTransport transport;
  for (int i = 0; i < 3; ++i) {
    HttpRequest req;
    req.method = "PUT";
    req.url = server.Url("/b/k");
    std::string body = "payload";
    req.body = Bytes(body);
    StringSink sink;
    auto resp = transport.Send(req, sink, {});
    ASSERT_TRUE(resp.ok()) << i << ": " << resp.status().ToString();
  }
  for (const auto& r : server.requests()) EXPECT_EQ(r.body, "payload");
}

TEST(CurlTransportTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    LoopbackServer server([](const Received&, bool&) { return std::string(); });
    std::string url = server.Url("/");
    port = std::stoi(url.substr(url.rfind(':') + 1));
  }
  CurlTransport transport;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/b/k";
  StringSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), ErrorCode::kUnavailable) << resp.status().ToString();
  EXPECT_NE(resp.status().message().find("GET http://127.0.0.1"), std::string::npos);
}

TEST(CurlTransportTest, MalformedUrlIsInvalidArgument) {
  CurlTransport transport;
  HttpRequest req;
  req.url = "http://[127.0.0.1/";
  StringSink sink;
  auto resp = transport.Send(req, sink, {});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), ErrorCode::kInvalidArgument) << resp.status().ToString();
}

TEST(CurlTransportTest, SinkErrorIsReturnedAsIs) {
  LoopbackServer server([](const Received&, bool&) { return Reply(200, "0123456789"); });
  CurlTransport transport;
  HttpRequest req;
  req.url = server.Url("/b/k");
  std::vector<std::byte> small(4);
  SpanSink sink(small);
  auto resp = transport.Send(req, sink, {});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), ErrorCode::kDataLoss) << resp.status().ToString();
}

// Each thread drives its transfers through a multi handle of its own (curl_loop.h). A sink
// that sends a request from inside a transfer (a libcurl callback on this thread) finds that
// handle busy: the inner request runs on its own, and both complete.
TEST(CurlTransportTest, ASinkMaySendARequestFromInsideATransfer) {
  LoopbackServer outer([](const Received&, bool&) { return Reply(200, "outer body"); });
  LoopbackServer inner([](const Received&, bool&) { return Reply(200, "inner"); });
  CurlTransport transport;
  struct NestingSink : BodySink {
    CurlTransport* transport = nullptr;
    std::string url;
    std::string body;
    std::string inner_body;
    Status inner_status = Status::Internal("inner request not sent");
    Status Begin(int, const Headers&) override { return Status::Ok(); }
    Status Write(std::span<const std::byte> data) override {
      if (inner_body.empty()) {
        HttpRequest req;
        req.url = url;
        StringSink sink;
        auto resp = transport->Send(req, sink, {});
        inner_status = resp.status();
        inner_body = sink.body();
      }
      body.append(reinterpret_cast<const char*>(data.data()), data.size());
      return Status::Ok();
    }
  } sink;
  sink.transport = &transport;
  sink.url = inner.Url("/inner");
  for (int i = 0; i < 2; ++i) {  // and the thread's loop is usable again afterwards
    sink.body.clear();
    sink.inner_body.clear();
    HttpRequest req;
    req.url = outer.Url("/outer");
    auto resp = transport.Send(req, sink, {});
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(sink.body, "outer body");
    EXPECT_TRUE(sink.inner_status.ok()) << sink.inner_status.ToString();
    EXPECT_EQ(sink.inner_body, "inner");
  }
  EXPECT_EQ(outer.connections(), 1);  // the outer connection was kept and reused
}

// Many threads at once, each with its own loop: every request answered, none mixed up.
TEST(CurlTransportTest, ConcurrentThreadsEachCompleteTheirOwnRequests) {
  std::vector<std::unique_ptr<LoopbackServer>> servers;
  for (int t = 0; t < 4; ++t) {
    servers.push_back(std::make_unique<LoopbackServer>(
        [](const Received& r, bool&) { return Reply(200, r.target); }));
  }
  CurlTransport transport;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        HttpRequest req;
        req.method = i % 3 == 0 ? "PUT" : "GET";
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        req.url = servers[t]->Url(path);
        std::string body = "b" + path;
        if (req.method == "PUT") req.body = Bytes(body);
        StringSink sink;
        auto resp = transport.Send(req, sink, {});
        if (resp.ok() && resp->status_code == 200 && sink.body() == path) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 100);
  for (auto& s : servers) {
    EXPECT_EQ(s->connections(), 1);  // one keep-alive connection per thread and server
    for (const auto& r : s->requests()) {
      if (r.method == "PUT") {
        EXPECT_EQ(r.body, "b" + r.target);
      }
    }
  }
}

// A proxy named by the environment is used (libcurl reads it); without one, handles are set to
// use none and libcurl does not look the variables up per request.
TEST(CurlTransportTest, ProxyFromTheEnvironmentIsUsed) {
  LoopbackServer proxy([](const Received&, bool&) { return Reply(200, "via proxy"); });
  ::setenv("http_proxy", proxy.Url("").c_str(), 1);
  CurlTransport transport;  // reads the environment when made
  HttpRequest req;
  req.url = "http://ferry-proxy-test.invalid/b/k";
  StringSink sink;
  auto resp = transport.Send(req, sink, {});
  ::unsetenv("http_proxy");
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(sink.body(), "via proxy");
  ASSERT_EQ(proxy.requests().size(), 1u);
  EXPECT_EQ(proxy.requests()[0].target, "http://ferry-proxy-test.invalid/b/k");
}

// A slow server's side of a request: it says when the request arrived and answers only once
// the test released it (at most 10 s later).
class HeldAnswer {
 public:
  void ArriveAndHold() {
    std::unique_lock lock(mu_);
    arrived_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, 10s, [&] { return released_; });
  }
  bool AwaitArrival() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return arrived_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool arrived_ = false;   // GUARDED_BY(mu_)
  bool released_ = false;  // GUARDED_BY(mu_)
};

TEST(CurlTransportTest, StopTokenCancelsATransferInFlight) {
  HeldAnswer held;
  LoopbackServer server([&](const Received&, bool& close) {
    held.ArriveAndHold();
    close = true;
    return Reply(200, "late");
  });
  CurlTransport transport;
  HttpRequest req;
  req.url = server.Url("/slow");
  StringSink sink;
  std::stop_source stop;
  std::thread canceller([&] {
    EXPECT_TRUE(held.AwaitArrival());  // the transfer is in flight
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto resp = transport.Send(req, sink, stop.get_token());
  auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  held.Release();
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), ErrorCode::kCancelled) << resp.status().ToString();
  EXPECT_LT(took, 1500ms);
}

TEST(CurlTransportTest, AlreadyStoppedTokenFailsFast) {
  CurlTransport transport;
  HttpRequest req;
  req.url = "http://127.0.0.1:1/";
  StringSink sink;
  std::stop_source stop;
  stop.request_stop();
  auto resp = transport.Send(req, sink, stop.get_token());
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), ErrorCode::kCancelled);
}

TEST(CurlTransportTest, RequestTimeoutIsUnavailable) {
  HeldAnswer held;  // never answers before the transport gave up
  LoopbackServer server([&](const Received&, bool& close) {
    held.ArriveAndHold();
    close = true;
    return std::string();
  });
  CurlTransport transport;
  HttpRequest req;
  req.url = server.Url("/slow");
  req.timeout_ms = 200;
  StringSink sink;
  auto resp = transport.Send(req, sink, {});
  held.Release();
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), ErrorCode::kUnavailable) << resp.status().ToString();
}

}  // namespace
}  // namespace ferry::http
