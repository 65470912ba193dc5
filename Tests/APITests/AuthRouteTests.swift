@testable import API
import APIModels
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

/// Tokens and roles at the HTTP API: every route × role, allowed and refused; 401 vs 403;
/// revocation and expiry; forged actor headers; what stays open.
final class AuthRouteTests: XCTestCase {
    /// Each route with the least role that may call it (docs/security.md). Bodies are valid
    /// enough to get past parsing; whether the call then succeeds does not matter here, only
    /// that authentication and authorization ran first.
    static let routes: [(method: HTTPRequest.Method, path: String, body: String?, role: TokenRole)] = [
        (.get, "/v1/health", nil, .read),
        (.get, "/v1/stats", nil, .read),
        (.get, "/v1/cluster?local=true", nil, .read),
        (.get, "/v1/workflows", nil, .read),
        (.get, "/v1/workflows/cookbook", nil, .read),
        (.get, "/v1/instances", nil, .read),
        (.get, "/v1/instances/demo", nil, .read),
        (.get, "/v1/instances/demo/history", nil, .read),
        (.get, "/v1/dispatches", nil, .read),
        (.get, "/v1/triggers", nil, .read),
        (.get, "/v1/timeouts", nil, .read),
        (.post, "/v1/instances", #"{"workflow":"cookbook"}"#, .submit),
        (.post, "/v1/instances/demo/transitions", #"{"to":"second"}"#, .submit),
        (.put, "/v1/workflows/cookbook", Definitions.cookbook, .admin),
        (.post, "/v1/cluster/members", #"{"id":9,"raft":"127.0.0.1:7999","api":"127.0.0.1:8999","learner":true}"#, .admin),
        (.post, "/v1/cluster/members/9/promote", nil, .admin),
        (.delete, "/v1/cluster/members/9", nil, .admin),
        (.post, "/v1/cluster/transfer-leader", #"{"to":1}"#, .admin),
        (.get, "/v1/snapshot", nil, .admin),
        (.get, "/v1/tokens", nil, .admin),
        (.post, "/v1/tokens", #"{"role":"read","name":"made-in-test"}"#, .admin),
        (.delete, "/v1/tokens/cccccccccccc", nil, .admin),
    ]

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    /// Creates the first (admin) token on an open cluster, then one of each other role.
    static func makeTokens(_ client: any TestClientProtocol) async throws -> [TokenRole: String] {
        let admin = try await client.call(.post, "/v1/tokens", #"{"role":"admin","name":"root"}"#)
        XCTAssertEqual(admin.status, .created, admin.text)
        let adminToken = try XCTUnwrap(admin["token"]?.stringValue)
        var tokens: [TokenRole: String] = [.admin: adminToken]
        for role in [TokenRole.read, .submit] {
            let made = try await client.call(.post, "/v1/tokens", #"{"role":"\#(role.name)","name":"\#(role.name)-bot"}"#,
                                             headers: bearer(adminToken))
            XCTAssertEqual(made.status, .created, made.text)
            tokens[role] = try XCTUnwrap(made["token"]?.stringValue)
        }
        return tokens
    }

    func testEveryRouteAllowsItsRoleAndAboveAndRefusesTheRest() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "demo")
            let tokens = try await Self.makeTokens(client)
            for route in Self.routes {
                let what = "\(route.method) \(route.path)"
                let anonymous = try await client.call(route.method, route.path, route.body)
                XCTAssertEqual(anonymous.status, .unauthorized, "\(what) without a token: \(anonymous.text)")
                XCTAssertEqual(anonymous.code, "unauthenticated", what)
                XCTAssertEqual(anonymous.headers[.wwwAuthenticate], #"Bearer realm="orchestrator""#, what)
                for role in TokenRole.allCases {
                    let answer = try await client.call(route.method, route.path, route.body, headers: Self.bearer(tokens[role]!))
                    if role.allows(route.role) {
                        XCTAssertFalse([.unauthorized, .forbidden].contains(answer.status), "\(what) as \(role): \(answer.text)")
                    } else {
                        XCTAssertEqual(answer.status, .forbidden, "\(what) as \(role): \(answer.text)")
                        XCTAssertEqual(answer.code, "forbidden", what)
                        XCTAssertEqual(answer.details["required"]?.stringValue, route.role.name, what)
                    }
                }
            }
        }
    }

    func testProbesAndMetricsStayOpenUnlessMetricsAskForATokenToo() async throws {
        var settings = APISettings()
        settings.metricsRequireToken = true
        for (settings, metricsOpen) in [(APISettings(), true), (settings, false)] {
            let fixture = Fixture(settings: settings)
            try await fixture.test { client in
                let tokens = try await Self.makeTokens(client)
                for path in ["/livez", "/readyz"] {
                    let answer = try await client.call(.get, path)
                    XCTAssertEqual(answer.status, .ok, "\(path): \(answer.text)")
                }
                let metrics = try await client.call(.get, "/metrics")
                XCTAssertEqual(metrics.status, metricsOpen ? .ok : .unauthorized, metrics.text)
                XCTAssertFalse(metrics.text.contains("demo"))
                let withToken = try await client.call(.get, "/metrics", headers: Self.bearer(tokens[.read]!))
                XCTAssertEqual(withToken.status, .ok)
            }
        }
    }

    func testBadTokensAreRefusedWithAReason() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            let tokens = try await Self.makeTokens(client)
            let admin = try XCTUnwrap(APIToken(parsing: tokens[.admin]!))
            let wrongSecret = "orch_\(admin.id)_" + String(repeating: "0", count: 64)
            let cases: [(String, String)] = [
                ("Bearer \(wrongSecret)", "secret does not match"),
                ("Bearer orch_ffffffffffff_\(String(repeating: "1", count: 64))", "not valid here"),
                ("Bearer orch_short_secret", "is not 'Bearer orch_"),
                ("Basic YWRtaW46YWRtaW4=", "is not 'Bearer orch_"),
                ("Bearer \(tokens[.admin]!.uppercased())", "is not 'Bearer orch_"),
            ]
            for (header, reason) in cases {
                let answer = try await client.call(.get, "/v1/workflows", headers: [.authorization: header])
                XCTAssertEqual(answer.status, .unauthorized, header)
                XCTAssertTrue(answer["error"]?.objectValue?["message"]?.stringValue?.contains(reason) == true, "\(header): \(answer.text)")
                XCTAssertFalse(answer.text.contains(String(repeating: "0", count: 64)), "a secret is never echoed")
            }
        }
    }

    func testARevokedTokenIsRefusedAndTheListShowsNoSecrets() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            let tokens = try await Self.makeTokens(client)
            let submit = try XCTUnwrap(APIToken(parsing: tokens[.submit]!))
            let before = try await client.call(.get, "/v1/workflows", headers: Self.bearer(tokens[.submit]!))
            XCTAssertEqual(before.status, .ok)
            let revoked = try await client.call(.delete, "/v1/tokens/\(submit.id)", headers: Self.bearer(tokens[.admin]!))
            XCTAssertEqual(revoked.status, .ok, revoked.text)
            XCTAssertEqual(revoked["status"]?.stringValue, "revoked")
            let after = try await client.call(.get, "/v1/workflows", headers: Self.bearer(tokens[.submit]!))
            XCTAssertEqual(after.status, .unauthorized)
            XCTAssertTrue(after.text.contains("revoked"), after.text)
            let unknown = try await client.call(.delete, "/v1/tokens/dddddddddddd", headers: Self.bearer(tokens[.admin]!))
            XCTAssertEqual(unknown.status, .notFound)
            XCTAssertEqual(unknown.code, "unknown_token")

            let list = try await client.call(.get, "/v1/tokens", headers: Self.bearer(tokens[.admin]!))
            XCTAssertEqual(list["tokens"]?.arrayValue?.count, 3)
            for secret in tokens.values.compactMap({ APIToken(parsing: $0)?.secret }) {
                XCTAssertFalse(list.text.contains(secret), "token list shows no secret")
            }
            XCTAssertFalse(list.text.contains("digest"))
        }
    }

    func testAnExpiredTokenIsRefused() async throws {
        let clock = ManualClock(nowMillis: 1_800_000_000_123)
        let fixture = Fixture(clock: clock)
        try await fixture.test { client in
            let tokens = try await Self.makeTokens(client)
            let made = try await client.call(.post, "/v1/tokens", #"{"role":"read","name":"short","ttl":"1h"}"#,
                                             headers: Self.bearer(tokens[.admin]!))
            XCTAssertEqual(made.status, .created, made.text)
            XCTAssertNotNil(made["expires_at"]?.stringValue)
            let token = try XCTUnwrap(made["token"]?.stringValue)
            let fresh = try await client.call(.get, "/v1/workflows", headers: Self.bearer(token))
            XCTAssertEqual(fresh.status, .ok)
            clock.advance(byMillis: 3_600_000 + 5_000)
            let stale = try await client.call(.get, "/v1/workflows", headers: Self.bearer(token))
            XCTAssertEqual(stale.status, .unauthorized)
            XCTAssertTrue(stale.text.contains("expired"), stale.text)
        }
    }

    func testTheFirstTokenMustBeAdminAndBadBodiesAreRefused() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            let read = try await client.call(.post, "/v1/tokens", #"{"role":"read","name":"first"}"#)
            XCTAssertEqual(read.status, .badRequest, read.text)
            for body in [#"{"role":"root","name":"x"}"#, #"{"role":"admin"}"#, #"{"role":"admin","name":"x","ttl":"soon"}"#,
                         #"{"role":"admin","name":"x","secret":"mine"}"#] {
                let answer = try await client.call(.post, "/v1/tokens", body)
                XCTAssertEqual(answer.status, .badRequest, "\(body): \(answer.text)")
            }
            let open = try await client.call(.get, "/v1/workflows")
            XCTAssertEqual(open.status, .ok, "still open: no token was created")
        }
    }

    func testTheActorComesFromTheTokenNeverFromAHeader() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            try await client.register("cookbook", Definitions.cookbook)
            let tokens = try await Self.makeTokens(client)
            let submit = try XCTUnwrap(APIToken(parsing: tokens[.submit]!))
            let admin = try XCTUnwrap(APIToken(parsing: tokens[.admin]!))
            var headers = Self.bearer(tokens[.submit]!)
            headers[HTTPField.Name("X-Orchestrator-Actor")!] = admin.id
            headers[HTTPField.Name("X-Orchestrator-Forwarded")!] = "2"
            let started = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"demo"}"#, headers: headers)
            XCTAssertEqual(started.status, .created, started.text)
            let moved = try await client.call(.post, "/v1/instances/demo/transitions", #"{"to":"second"}"#, headers: headers)
            XCTAssertEqual(moved.status, .ok, moved.text)
            let history = try await client.call(.get, "/v1/instances/demo/history", headers: Self.bearer(tokens[.read]!))
            let actors = history["entries"]?.arrayValue?.map { $0.objectValue?["actor"]?.objectValue?["token"]?.stringValue }
            XCTAssertEqual(actors, [submit.id, submit.id])
            let names = history["entries"]?.arrayValue?.map { $0.objectValue?["actor"]?.objectValue?["name"]?.stringValue }
            XCTAssertEqual(names, ["submit-bot", "submit-bot"])
        }
    }

    func testANodeThatRequiresTokensRefusesEvenBeforeTheClusterHoldsOne() async throws {
        var settings = APISettings()
        settings.requireTokens = true
        let fixture = Fixture(settings: settings)
        try await fixture.test { client in
            let answer = try await client.call(.get, "/v1/health")
            XCTAssertEqual(answer.status, .unauthorized)
            let create = try await client.call(.post, "/v1/tokens", #"{"role":"admin","name":"sneaky"}"#)
            XCTAssertEqual(create.status, .unauthorized, "no token can be made without one: the bootstrap file is the way in")
            let live = try await client.call(.get, "/livez")
            XCTAssertEqual(live.status, .ok)
        }
    }
}
