import XCTest
@testable import Engine
import Workflow

/// API tokens in the replicated state: what apply accepts, what it keeps (digests only), and
/// that the actor of a request is recorded in the history and survives a snapshot.
final class TokenTests: XCTestCase {
    let digest = [UInt8](repeating: 7, count: 32)

    func create(_ h: inout Harness, id: String, role: TokenRole, name: String = "someone", ttlMillis: Int64? = nil,
                bootstrap: Bool = false, actor: String? = nil) -> Outcome {
        h.apply(.createToken(CreateToken(id: id, role: role, name: name, digest: digest, ttlMillis: ttlMillis,
                                         bootstrap: bootstrap, actor: actor)))
    }

    func testTheFirstTokenMustBeAnAdminTokenAndTurnsAuthenticationOn() {
        var h = Harness()
        XCTAssertFalse(h.state.authenticationEnabled)
        let refused = create(&h, id: "aaaaaaaaaaaa", role: .read)
        XCTAssertEqual(refused.rejection?.code, "invalid_argument")
        XCTAssertFalse(h.state.authenticationEnabled)
        guard case .tokenChanged(let created) = create(&h, id: "aaaaaaaaaaaa", role: .admin, name: "root") else {
            return XCTFail("the admin token was not created")
        }
        XCTAssertTrue(created.changed)
        XCTAssertEqual(created.token.digest, digest)
        XCTAssertTrue(h.state.authenticationEnabled)
        XCTAssertTrue(create(&h, id: "bbbbbbbbbbbb", role: .read, actor: "aaaaaaaaaaaa").isAccepted)
        XCTAssertEqual(h.state.token(id: "bbbbbbbbbbbb")?.createdBy, "aaaaaaaaaaaa")
        XCTAssertEqual(h.state.allTokens.map(\.id), ["aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    }

    func testMalformedTokensAreRefused() {
        var h = Harness()
        XCTAssertEqual(create(&h, id: "ZZZZZZZZZZZZ", role: .admin).rejection?.code, "invalid_argument")
        XCTAssertEqual(create(&h, id: "abc", role: .admin).rejection?.code, "invalid_argument")
        XCTAssertEqual(create(&h, id: "aaaaaaaaaaaa", role: .admin, name: "").rejection?.code, "invalid_argument")
        XCTAssertEqual(create(&h, id: "aaaaaaaaaaaa", role: .admin, name: "a\u{7}b").rejection?.code, "invalid_argument")
        XCTAssertEqual(create(&h, id: "aaaaaaaaaaaa", role: .admin, ttlMillis: 0).rejection?.code, "invalid_argument")
        let short = h.apply(.createToken(CreateToken(id: "aaaaaaaaaaaa", role: .admin, name: "x", digest: [1, 2, 3])))
        XCTAssertEqual(short.rejection?.code, "invalid_argument")
        XCTAssertFalse(h.state.authenticationEnabled)
        XCTAssertTrue(create(&h, id: "aaaaaaaaaaaa", role: .admin).isAccepted)
        XCTAssertEqual(create(&h, id: "aaaaaaaaaaaa", role: .admin).rejection?.code, "invalid_argument", "an id is used once")
    }

    func testOnlyTheFirstBootstrapTokenCounts() {
        var h = Harness()
        guard case .tokenChanged(let first) = create(&h, id: "111111111111", role: .admin, bootstrap: true) else {
            return XCTFail("no bootstrap token")
        }
        XCTAssertTrue(first.changed)
        guard case .tokenChanged(let second) = create(&h, id: "222222222222", role: .admin, bootstrap: true) else {
            return XCTFail("a second bootstrap was refused instead of ignored")
        }
        XCTAssertFalse(second.changed)
        XCTAssertEqual(second.token.id, "111111111111")
        XCTAssertNil(h.state.token(id: "222222222222"))
    }

    func testABootstrapTokenRestoresAdminAccessOnlyWhenNoAdminTokenIsUsable() {
        var h = Harness()
        XCTAssertTrue(create(&h, id: "111111111111", role: .admin, bootstrap: true).isAccepted)
        XCTAssertTrue(create(&h, id: "222222222222", role: .read, actor: "111111111111").isAccepted)
        h.apply(.revokeToken(RevokeToken(id: "111111111111")))
        XCTAssertNil(h.state.usableAdminToken(atMillis: h.nowMillis))
        // The revoked bootstrap token does not come back ...
        XCTAssertEqual(create(&h, id: "111111111111", role: .admin, bootstrap: true).rejection?.code, "invalid_argument")
        // ... a new one does, once; a read token does not count as admin access.
        guard case .tokenChanged(let restored) = create(&h, id: "333333333333", role: .admin, bootstrap: true) else {
            return XCTFail("no admin access restored")
        }
        XCTAssertTrue(restored.changed)
        guard case .tokenChanged(let again) = create(&h, id: "444444444444", role: .admin, bootstrap: true) else {
            return XCTFail("refused instead of ignored")
        }
        XCTAssertFalse(again.changed)
        // An expired admin token is no admin access either.
        var e = Harness()
        XCTAssertTrue(create(&e, id: "555555555555", role: .admin, ttlMillis: 500).isAccepted)
        guard case .tokenChanged(let afterExpiry) = create(&e, id: "666666666666", role: .admin, bootstrap: true) else {
            return XCTFail("refused")
        }
        XCTAssertTrue(afterExpiry.changed, "the harness's clock moved past the first token's expiry")
    }

    func testRevocationAndExpiryAreKeptWithTheToken() {
        var h = Harness()
        XCTAssertTrue(create(&h, id: "aaaaaaaaaaaa", role: .admin).isAccepted)
        XCTAssertTrue(create(&h, id: "bbbbbbbbbbbb", role: .submit, ttlMillis: 60_000).isAccepted)
        let expiry = try? XCTUnwrap(h.state.token(id: "bbbbbbbbbbbb")?.expiresAtMillis)
        XCTAssertEqual(expiry, h.nowMillis + 60_000, "the lifetime counts from the entry's time")
        XCTAssertTrue(h.state.token(id: "bbbbbbbbbbbb")!.isUsable(atMillis: h.nowMillis + 59_999))
        XCTAssertFalse(h.state.token(id: "bbbbbbbbbbbb")!.isUsable(atMillis: h.nowMillis + 60_000))

        guard case .tokenChanged(let revoked) = h.apply(.revokeToken(RevokeToken(id: "bbbbbbbbbbbb"))) else {
            return XCTFail("not revoked")
        }
        XCTAssertTrue(revoked.changed)
        XCTAssertEqual(revoked.token.revokedAtMillis, h.nowMillis)
        XCTAssertFalse(h.state.token(id: "bbbbbbbbbbbb")!.isUsable(atMillis: h.nowMillis))
        guard case .tokenChanged(let again) = h.apply(.revokeToken(RevokeToken(id: "bbbbbbbbbbbb"))) else {
            return XCTFail("a repeated revocation was refused")
        }
        XCTAssertFalse(again.changed)
        XCTAssertEqual(h.apply(.revokeToken(RevokeToken(id: "cccccccccccc"))).rejection?.code, "unknown_token")
        XCTAssertTrue(h.state.authenticationEnabled, "authentication stays on")
    }

    func testTheActorIsRecordedInTheHistoryAndSurvivesASnapshot() throws {
        var h = Harness()
        XCTAssertTrue(create(&h, id: "aaaaaaaaaaaa", role: .admin).isAccepted)
        h.apply(.startInstance(StartInstance(workflow: "cookbook", id: "demo", actor: "aaaaaaaaaaaa")))
        h.apply(.transition(TransitionRequest(instance: "demo", name: "second", actor: "aaaaaaaaaaaa")))
        h.move("demo", "third")
        let history = try XCTUnwrap(h.state.history(of: "demo"))
        XCTAssertEqual(history.entries.map(\.actor), ["aaaaaaaaaaaa", "aaaaaaaaaaaa", nil])

        let bytes = h.state.snapshot()
        let restored = try EngineState(restoring: bytes)
        XCTAssertEqual(restored.snapshot(), bytes)
        XCTAssertEqual(restored.history(of: "demo")?.entries.map(\.actor), ["aaaaaaaaaaaa", "aaaaaaaaaaaa", nil])
        XCTAssertEqual(restored.token(id: "aaaaaaaaaaaa"), h.state.token(id: "aaaaaaaaaaaa"))
        XCTAssertTrue(restored.authenticationEnabled)
    }

    func testTokenCommandsRoundTripThroughTheirEncoding() throws {
        let commands: [Command] = [
            .createToken(CreateToken(id: "0123456789ab", role: .submit, name: "ci bot", digest: digest, ttlMillis: 86_400_000,
                                     bootstrap: false, actor: "aaaaaaaaaaaa", requestID: "r-1", proposedAtMillis: 42)),
            .createToken(CreateToken(id: "0123456789ab", role: .admin, name: "bootstrap", digest: digest, bootstrap: true)),
            .revokeToken(RevokeToken(id: "0123456789ab", actor: "aaaaaaaaaaaa", requestID: "r-2", proposedAtMillis: 7)),
            .transition(TransitionRequest(instance: "o", name: "pay", requestID: "r-3", actor: "aaaaaaaaaaaa", proposedAtMillis: 9)),
        ]
        for command in commands {
            XCTAssertEqual(try Command.decode(command.encoded()), command)
        }
        // A command written before actors existed (format 1) still decodes, with no actor.
        var old = Command.transition(TransitionRequest(instance: "o", name: "pay", requestID: "r")).encoded()
        old.remove(at: 10 + 1 + 1 + 1)   // version, tag, time, request id (present, length 1, "r"): the actor's "absent" byte
        old[0] = 1
        XCTAssertEqual(try Command.decode(old), .transition(TransitionRequest(instance: "o", name: "pay", requestID: "r")))
    }
}
