// RedisClient behaviour that needs no Redis: reply values, argument checks, and failures against
// loopback sockets this test owns (a closed port, a listener that never answers). Behaviour against
// a real server is in tests/integration/cache/redis_client_test.cc.
#include "cache/redis_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A listening loopback socket that accepts nothing: connects succeed (the kernel completes them
// from the backlog) but no byte is ever answered, like a hung server.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A loopback port with nothing listening (bound, then released).
int ClosedPort() {
  int port;
  {
    SilentServer s;
    port = s.port();
  }
  return port;
}

TEST(RedisReplyTest, DebugStringShowsNestedValues) {
  RedisReply r = RedisReply::Array({RedisReply::Integer(1), RedisReply::String("a"),
                                    RedisReply::Nil(), RedisReply::Error("ERR x")});
  EXPECT_TRUE(r.is_array());
  ASSERT_EQ(r.elements().size(), 4u);
  EXPECT_EQ(r.elements()[0].integer(), 1);
  EXPECT_EQ(r.elements()[3].str(), "ERR x");
  EXPECT_EQ(r.DebugString(), "[1, \"a\", nil, (error ERR x)]");
}

TEST(RedisClientTest, ClosedPortIsUnavailableWithAddressInMessage) {
  int port = ClosedPort();
  RedisClient client({"127.0.0.1", port, 500, 2});

  Status s = client.Ping();

  ASSERT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "redis at 127.0.0.1:" + std::to_string(port) + ": connection refused");
  EXPECT_NE(s.hint().find("check that Redis is running"), std::string::npos) << s.hint();
}

TEST(RedisClientTest, ServerThatNeverAnswersTimesOutWithinTheTimeout) {
  SilentServer server;
  RedisClient client({"127.0.0.1", server.port(), 200, 2});

  auto start = steady_clock::now();
  Status s = client.Ping();
  auto took = steady_clock::now() - start;

  ASSERT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "redis at 127.0.0.1:" + std::to_string(server.port()) + ": timed out after 200 ms");
  EXPECT_GE(took, milliseconds(150));
  EXPECT_LT(took, milliseconds(1500));
}

TEST(RedisClientTest, NegativeTtlIsRejectedBeforeAnythingIsSent) {
  RedisClient client({"127.0.0.1", ClosedPort(), 200, 1});
  Status s = client.Set("k", "v", -1);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "negative redis ttl_ms -1");
}

TEST(RedisClientTest, EmptyCommandIsRejected) {
  RedisClient client({"127.0.0.1", ClosedPort(), 200, 1});
  EXPECT_EQ(client.Command({}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace auri
