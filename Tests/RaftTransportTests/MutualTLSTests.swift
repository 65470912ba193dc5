import ClusterTLS
import Foundation
import Logging
import Raft
import Synchronization
import XCTest

@testable import RaftTransport

/// Mutual TLS between transports: certificates from `certs init` in a temporary directory.
final class MutualTLSTests: TransportTestCase {
    private var directories: [String] = []
    private var transports: [TCPTransport] = []
    private let logs = LogRecords()

    override func tearDown() async throws {
        for transport in transports { await transport.shutdown() }
        transports = []
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
        try await super.tearDown()
    }

    /// A CA and certificates for nodes 1...`nodes`, in a new directory.
    private func makeCertificates(nodes: Int) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orch-tls-\(UUID().uuidString.prefix(8))").path
        directories.append(directory)
        _ = try CertificateFiles.initCluster(directory: directory, nodes: nodes, hosts: ["127.0.0.1"], days: 1, force: false)
        return directory
    }

    /// PeerTLS of the certificate of node `certificateOf` in `directory`.
    private func peerTLS(_ directory: String, certificateOf id: UInt64) throws -> PeerTLS {
        try PeerTLS.load(certificate: TLSFile(CertificateFiles.nodeCertificatePath(in: directory, id: id), setting: "cert"),
                         key: TLSFile(CertificateFiles.nodeKeyPath(in: directory, id: id), setting: "key"),
                         ca: TLSFile(CertificateFiles.caCertificatePath(in: directory), setting: "ca"))
    }

    private func start(_ id: NodeID, tls: PeerTLS?) async throws -> TCPTransport {
        var logger = Logger(label: "test.tls") { _ in LogRecordingHandler(records: self.logs) }
        logger.logLevel = .info
        let transport = TCPTransport(nodeID: id, clusterID: "test", listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:],
                                     options: options { $0.peerTLS = tls }, logger: logger)
        transports.append(transport)
        try await transport.start()
        return transport
    }

    private func connect(_ transports: [TCPTransport]) {
        var peers: [NodeID: PeerAddress] = [:]
        for transport in transports { peers[transport.nodeID] = transport.listenAddress! }
        for transport in transports { transport.updatePeers(peers) }
    }

    func testTransportsWithMutualTLSExchangeMessagesInOrder() async throws {
        let certificates = try makeCertificates(nodes: 2)
        let one = try await start(1, tls: try peerTLS(certificates, certificateOf: 1))
        let two = try await start(2, tls: try peerTLS(certificates, certificateOf: 2))
        connect([one, two])
        let (inbox1, inbox2) = (Collector(one.incoming), Collector(two.incoming))
        let toTwo = (0..<200).map { heartbeat(from: 1, to: 2, $0) }
        let toOne = (0..<200).map { heartbeat(from: 2, to: 1, $0) }
        // The first sends may be dropped while the TLS handshakes run (as on any dial): resend.
        for _ in 0..<200 where inbox1.messages.isEmpty || inbox2.messages.isEmpty {
            one.send([heartbeat(from: 1, to: 2, 999)])
            two.send([heartbeat(from: 2, to: 1, 999)])
            _ = await eventually(timeout: .milliseconds(50)) { !inbox1.messages.isEmpty && !inbox2.messages.isEmpty }
        }
        let (before1, before2) = (inbox1.messages.count, inbox2.messages.count)
        one.send(toTwo)
        two.send(toOne)
        let at2 = await inbox2.waitFor(before2 + 200), at1 = await inbox1.waitFor(before1 + 200)
        XCTAssertEqual(Array(at2.dropFirst(before2)), toTwo)
        XCTAssertEqual(Array(at1.dropFirst(before1)), toOne)
        XCTAssertEqual(one.stats.tlsRefused + two.stats.tlsRefused, 0)
    }

    func testPeerPresentingAnotherNodesCertificateIsRefusedAndDeliversNothing() async throws {
        let certificates = try makeCertificates(nodes: 3)
        let one = try await start(1, tls: try peerTLS(certificates, certificateOf: 1))
        // Node 2 runs with node 3's certificate: same CA, wrong identity.
        let impostor = try await start(2, tls: try peerTLS(certificates, certificateOf: 3))
        connect([one, impostor])
        let (inbox1, inbox2) = (Collector(one.incoming), Collector(impostor.incoming))
        // Node 1 checks both ways: it refuses the impostor's connection (whose refusal the
        // impostor hears) and closes its own connection to the impostor.
        let refusedBothWays = await eventually {
            impostor.send([heartbeat(from: 2, to: 1, 0)])
            one.send([heartbeat(from: 1, to: 2, 0)])
            return one.stats.tlsRefused >= 2 && impostor.stats.refusedByPeer > 0
        }
        XCTAssertTrue(refusedBothWays, "stats 1: \(one.stats); stats 2: \(impostor.stats)")
        for _ in 0..<20 {
            impostor.send([heartbeat(from: 2, to: 1, 1)])
            one.send([heartbeat(from: 1, to: 2, 1)])
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTAssertEqual(inbox1.messages, [], "node 1 took a Raft message from a peer whose certificate names node 3")
        XCTAssertEqual(inbox2.messages, [], "node 2 took a message over a connection node 1 closed")
        XCTAssertTrue(logs.warnings.contains { $0.contains("claims to be node 2") && $0.contains("certificate is for node 3") },
                      "the accepting node names both ids: \(logs.warnings)")
        XCTAssertTrue(logs.warnings.contains { $0.contains("certificate for node 3, not node 2") },
                      "the dialer names both ids: \(logs.warnings)")
    }

    func testPeerWithCertificateFromAnotherCAIsRefused() async throws {
        let ours = try makeCertificates(nodes: 2)
        let theirs = try makeCertificates(nodes: 2)
        let one = try await start(1, tls: try peerTLS(ours, certificateOf: 1))
        let stranger = try await start(2, tls: try peerTLS(theirs, certificateOf: 2))
        connect([one, stranger])
        let (inbox1, inbox2) = (Collector(one.incoming), Collector(stranger.incoming))
        let refused = await eventually {
            stranger.send([heartbeat(from: 2, to: 1, 0)])
            one.send([heartbeat(from: 1, to: 2, 0)])
            return one.stats.tlsRefused > 0 && stranger.stats.tlsRefused > 0
        }
        XCTAssertTrue(refused, "stats 1: \(one.stats); stats 2: \(stranger.stats)")
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(inbox1.messages, [])
        XCTAssertEqual(inbox2.messages, [])
        XCTAssertEqual(one.stats.connectionsEstablished + stranger.stats.connectionsEstablished, 0)
        // Each dialer rejects the other CA's server certificate first (so the accepting side
        // hears an unknown-CA alert): both say what is wrong.
        XCTAssertTrue(logs.warnings.contains { $0.contains("TLS failed") && $0.contains("not signed by this cluster's CA") },
                      "the dialer says the certificate is from another CA: \(logs.warnings)")
        XCTAssertTrue(logs.warnings.contains { $0.contains("TLS handshake failed") && $0.contains("did not accept this node's certificate") },
                      "the accepting node says its certificate was refused: \(logs.warnings)")
    }

    /// The middle of a CA rotation (docs/security.md, "Rotation"): every node trusts both CAs
    /// (one PEM bundle), one node already has its certificate from the new CA.
    func testNodesTrustingACABundleAcceptCertificatesFromEitherCA() async throws {
        let old = try makeCertificates(nodes: 2)
        let new = try makeCertificates(nodes: 2)
        let bundle = "\(new)/bundle.pem"
        let bundleText = try String(contentsOfFile: CertificateFiles.caCertificatePath(in: old), encoding: .utf8)
            + String(contentsOfFile: CertificateFiles.caCertificatePath(in: new), encoding: .utf8)
        try bundleText.write(toFile: bundle, atomically: true, encoding: .utf8)
        func tls(_ directory: String, _ id: UInt64) throws -> PeerTLS {
            try PeerTLS.load(certificate: TLSFile(CertificateFiles.nodeCertificatePath(in: directory, id: id), setting: "cert"),
                             key: TLSFile(CertificateFiles.nodeKeyPath(in: directory, id: id), setting: "key"),
                             ca: TLSFile(bundle, setting: "ca"), nodeID: id)
        }
        let one = try await start(1, tls: try tls(old, 1))
        let two = try await start(2, tls: try tls(new, 2))
        connect([one, two])
        let (inbox1, inbox2) = (Collector(one.incoming), Collector(two.incoming))
        let exchanged = await eventually {
            one.send([heartbeat(from: 1, to: 2, 0)])
            two.send([heartbeat(from: 2, to: 1, 0)])
            return !inbox1.messages.isEmpty && !inbox2.messages.isEmpty
        }
        XCTAssertTrue(exchanged, "stats 1: \(one.stats); stats 2: \(two.stats); \(logs.warnings)")
        XCTAssertEqual(one.stats.tlsRefused + two.stats.tlsRefused, 0)
    }

    func testTLSNodeRefusesPlainTCPPeer() async throws {
        let certificates = try makeCertificates(nodes: 2)
        let one = try await start(1, tls: try peerTLS(certificates, certificateOf: 1))
        let plain = try await start(2, tls: nil)
        connect([one, plain])
        let (inbox1, inbox2) = (Collector(one.incoming), Collector(plain.incoming))
        let refused = await eventually {
            plain.send([heartbeat(from: 2, to: 1, 0)])
            one.send([heartbeat(from: 1, to: 2, 0)])
            return one.stats.tlsRefused > 1
        }
        XCTAssertTrue(refused, "stats 1: \(one.stats); stats 2: \(plain.stats)")
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(inbox1.messages, [])
        XCTAssertEqual(inbox2.messages, [])
    }
}

/// Log lines at warning and above, for assertions.
final class LogRecords: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var warnings: [String] { lines.withLock { $0 } }
}

struct LogRecordingHandler: LogHandler {
    let records: LogRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        if event.level >= .warning { records.append("\(event.message)") }
    }
}
