import Engine
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /livez` and `GET /readyz`: Kubernetes (and etcd) probe semantics, unauthenticated
/// and free of instance data (docs/operations.md, "Probes").
///
/// - `/livez`: the process works — this HTTP server answered, and the node loop answered a
///   status read within `APISettings.livenessTimeoutMillis`. Failing it means "restart me".
/// - `/readyz`: the node can serve — it is live, knows a leader, has applied nearly all it
///   knows committed (`APISettings.readyAppliedLagEntriesMax`), and its write-ahead log has
///   not failed. Failing it means "send no traffic here for now".
///
/// 200 with `ok`, or 503 listing every check (`[+]name ok` / `[-]name failed: reason`) and
/// `livez check failed`. `?verbose` lists the checks on success too; `?exclude=NAME`
/// (repeatable) skips a check and reports it as excluded.
///
/// ```
/// $ curl -s 'localhost:8080/readyz?verbose'
/// [+]node_loop ok
/// [-]leader failed: no leader is known (term 7)
/// [+]applied ok
/// [+]storage ok
/// readyz check failed
/// ```
extension APIServer {
    /// One named check of a probe and what it found.
    struct ProbeCheck: Sendable, Equatable {
        var name: String
        /// Why it failed; nil: it passed.
        var failure: String?
    }

    func livez(_ request: Request) async -> Response {
        let excluded = Self.excludedChecks(request)
        var checks: [ProbeCheck] = []
        if !excluded.contains("node_loop") { checks.append(await nodeLoopCheck()) }
        return Self.probeAnswer("livez", checks: checks, excluded: excluded, request)
    }

    func readyz(_ request: Request) async -> Response {
        let excluded = Self.excludedChecks(request)
        var checks: [ProbeCheck] = []
        // Readiness includes liveness (as in Kubernetes): a stuck loop's status copy is stale.
        if !excluded.contains("node_loop") { checks.append(await nodeLoopCheck()) }
        checks += readinessChecks().filter { !excluded.contains($0.name) }
        return Self.probeAnswer("readyz", checks: checks, excluded: excluded, request)
    }

    /// The checks only `/readyz` makes, from facts the consensus has at hand (no waiting).
    func readinessChecks() -> [ProbeCheck] {
        let health = consensus.health()
        let lag = health.commitIndex > health.appliedIndex ? health.commitIndex - health.appliedIndex : 0
        let lagMax = settings.readyAppliedLagEntriesMax
        return [
            ProbeCheck(name: "leader", failure: health.leader == nil ? "no leader is known (term \(health.term))" : nil),
            ProbeCheck(name: "applied", failure: lag <= lagMax ? nil
                : "applied index \(health.appliedIndex) is \(lag) entries behind commit index \(health.commitIndex) (at most \(lagMax))"),
            ProbeCheck(name: "storage", failure: consensus.storageFailure.map { "the write-ahead log failed: \($0)" }),
        ]
    }

    /// The node loop answers a status read within the deadline.
    func nodeLoopCheck() async -> ProbeCheck {
        switch await consensus.liveness(timeoutMillis: settings.livenessTimeoutMillis) {
        case .responding:
            return ProbeCheck(name: "node_loop", failure: nil)
        case .stopped(let reason):
            return ProbeCheck(name: "node_loop", failure: "the node loop has stopped: \(reason)")
        case .unresponsive(let millis):
            return ProbeCheck(name: "node_loop", failure: "the node loop did not answer within \(millis) ms")
        }
    }

    /// `?exclude=NAME`, each time it is given.
    static func excludedChecks(_ request: Request) -> Set<String> {
        Set(request.uri.queryParameters.getAll("exclude"))
    }

    /// The answer of probe `probe`: `ok`, or one line per check and a verdict.
    static func probeAnswer(_ probe: String, checks: [ProbeCheck], excluded: Set<String>, _ request: Request) -> Response {
        let passed = checks.allSatisfy { $0.failure == nil }
        let verbose = request.uri.queryParameters["verbose"] != nil
        var text: String
        if passed && !verbose {
            text = "ok"
        } else {
            text = ""
            for check in checks {
                if let failure = check.failure {
                    text += "[-]\(check.name) failed: \(failure)\n"
                } else {
                    text += "[+]\(check.name) ok\n"
                }
            }
            for name in excluded.sorted() { text += "[+]\(name) excluded: ok\n" }
            text += passed ? "\(probe) check passed\n" : "\(probe) check failed\n"
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: passed ? .ok : .serviceUnavailable, headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
