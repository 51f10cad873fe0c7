#include "delivery/ssrf_guard.h"

#include <gtest/gtest.h>

namespace auri::delivery {
namespace {

TEST(SsrfGuard, PrivateAndSpecialAddressesAreRefused) {
  for (const char* a : {"127.0.0.1",
                        "127.8.9.10",
                        "10.1.2.3",
                        "172.16.0.1",
                        "172.31.255.255",
                        "192.168.1.1",
                        "169.254.169.254",
                        "169.254.1.1",
                        "0.0.0.0",
                        "224.0.0.1",
                        "255.255.255.255",
                        "100.64.0.1",
                        "::",
                        "::1",
                        "fc00::1",
                        "fd12:3456::1",
                        "fe80::1",
                        "ff02::1",
                        "::ffff:127.0.0.1",
                        "::ffff:10.0.0.1",
                        "::ffff:169.254.169.254",
                        "not-an-address"}) {
    EXPECT_TRUE(IsPrivateAddress(a)) << a;
  }
}

TEST(SsrfGuard, PublicAddressesAreAllowed) {
  for (const char* a : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "100.128.0.1",
                        "2606:4700:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(IsPrivateAddress(a)) << a;
  }
}

TEST(SsrfGuard, ParsesUrls) {
  auto u = ParseHttpUrl("HTTPS://Example.COM:8443/path?q=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 8443);
  auto v6 = ParseHttpUrl("http://[::1]/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 80);
}

TEST(SsrfGuard, RejectsBadUrls) {
  EXPECT_FALSE(ParseHttpUrl("ftp://example.com/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://user@example.com/").ok());
  EXPECT_FALSE(ParseHttpUrl("http:///x").ok());
  EXPECT_FALSE(ParseHttpUrl("http://example.com:99999/").ok());
  EXPECT_FALSE(ParseHttpUrl("example.com").ok());
}

TEST(SsrfGuard, NumericLoopbackIsRefusedUnlessAllowed) {
  auto u = ParseHttpUrl("http://127.0.0.1:9/");
  ASSERT_TRUE(u.ok());
  auto refused = CheckDestination(*u, PrivateDestinations::kRefuse);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("private address 127.0.0.1"), std::string::npos);
  auto allowed = CheckDestination(*u, PrivateDestinations::kAllow);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->address, "127.0.0.1");
}

TEST(SsrfGuard, EmbeddedStackPolicyAllowsLoopbackButNotOtherPrivate) {
  auto loop = ParseHttpUrl("http://127.0.0.1:9/");
  auto metadata = ParseHttpUrl("http://169.254.169.254/latest/meta-data/");
  auto rfc1918 = ParseHttpUrl("http://10.0.0.1/");
  ASSERT_TRUE(loop.ok() && metadata.ok() && rfc1918.ok());
  EXPECT_TRUE(CheckDestination(*loop, PrivateDestinations::kAllowLoopback).ok());
  EXPECT_FALSE(CheckDestination(*metadata, PrivateDestinations::kAllowLoopback).ok());
  EXPECT_FALSE(CheckDestination(*rfc1918, PrivateDestinations::kAllowLoopback).ok());
}

TEST(SsrfGuard, HostnameResolvingToLoopbackIsRefused) {
  auto u = ParseHttpUrl("http://localhost:9/");
  ASSERT_TRUE(u.ok());
  auto refused = CheckDestination(*u, PrivateDestinations::kRefuse);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace auri::delivery
