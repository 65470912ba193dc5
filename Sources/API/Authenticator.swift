import APIModels
import Crypto
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Workflow

/// Who sent a request, once its token checked out: the token's id (the actor stamped into
/// the commands it proposes), name and role. `nil` tokenID: authentication is off.
struct Caller: Sendable, Hashable {
    var tokenID: String?
    var name: String?
    var role: TokenRole

    /// Anyone, while the cluster holds no token and the node does not require one.
    static let anonymous = Caller(tokenID: nil, name: nil, role: .admin)
}

/// Checks the `Authorization: Bearer orch_<id>_<secret>` header of a request against the
/// tokens in the replicated engine state (docs/security.md).
///
/// - Authentication is on once the cluster holds a token (every node then agrees), or from
///   the start on a node configured to require it (`requireTokens`: a bootstrap token file
///   was given, or the node listens beyond loopback).
/// - The token is looked up by its id; the SHA-256 of its secret is compared with the stored
///   digest by swift-crypto's digest equality, which takes the same time wherever the bytes
///   differ. The secret itself is never stored, logged or echoed.
/// - A revoked or expired token is refused by every node once it has applied the revocation
///   (or its clock passed the expiry).
struct Authenticator: Sendable {
    let engine: ReplicatedEngine
    let clock: any WallClock
    let requireTokens: Bool

    /// The caller of `request`, if it may do what `required` allows: 401 without a usable
    /// token, 403 when the token's role is too small.
    func authorize(_ request: Request, _ required: TokenRole) throws(APIError) -> Caller {
        try authorize(request.headers, required)
    }

    /// ``authorize(_:_:)`` given the request's headers.
    func authorize(_ headers: HTTPFields, _ required: TokenRole) throws(APIError) -> Caller {
        guard requireTokens || engine.authenticationEnabled else { return .anonymous }
        guard let header = headers[.authorization] else {
            throw Self.unauthenticated("this request needs an API token: send 'Authorization: Bearer orch_…' "
                + "(the CLI reads ORCHESTRATOR_TOKEN or --token-file)")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", let token = APIToken(parsing: String(parts[1])) else {
            throw Self.unauthenticated("the Authorization header is not 'Bearer orch_<id>_<secret>'")
        }
        guard let record = engine.token(id: token.id), SHA256.hash(data: Array(token.secret.utf8)) == record.digest else {
            throw Self.unauthenticated("token \(token.id) is not valid here (unknown, or its secret does not match)")
        }
        if let revoked = record.revokedAtMillis {
            throw Self.unauthenticated("token \(record.id) (\(record.name)) was revoked at \(Timestamp.rfc3339(millis: revoked))")
        }
        if let expires = record.expiresAtMillis, clock.nowMillis >= expires {
            throw Self.unauthenticated("token \(record.id) (\(record.name)) expired at \(Timestamp.rfc3339(millis: expires))")
        }
        guard record.role.allows(required) else {
            throw APIError(status: .forbidden, code: "forbidden",
                           message: "token \(record.id) (\(record.name)) has role \(record.role); this request needs \(required)",
                           details: ["token": .string(record.id), "role": .string(record.role.name), "required": .string(required.name)])
        }
        return Caller(tokenID: record.id, name: record.name, role: record.role)
    }

    private static func unauthenticated(_ message: String) -> APIError {
        APIError(status: .unauthorized, code: "unauthenticated", message: message)
    }
}

extension APIToken {
    /// SHA-256 of the secret: all the cluster keeps of a token.
    public var digest: [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }
}

extension Caller {
    /// How logs name the caller: `name (token id)`, or `anonymous` with authentication off.
    var display: String {
        guard let tokenID else { return "anonymous" }
        return "\(name ?? "?") (\(tokenID))"
    }
}
