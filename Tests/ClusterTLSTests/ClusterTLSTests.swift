import ClusterTLS
import Foundation
import NIOSSL
import SwiftASN1
import X509
import XCTest

final class ClusterTLSTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("orch-certs-\(UUID().uuidString.prefix(8))").path
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func file(_ name: String, _ setting: String = "--test") -> TLSFile { TLSFile("\(directory)/\(name)", setting: setting) }

    func testNodeIDURIRoundTripsAndRejectsLookalikes() {
        for id: UInt64 in [1, 7, 42, UInt64.max] {
            XCTAssertEqual(NodeIdentity.nodeID(fromURI: NodeIdentity.uri(for: id)), id)
        }
        XCTAssertEqual(NodeIdentity.uri(for: 3), "orchestrator://node/3")
        for bad in ["orchestrator://node/0", "orchestrator://node/01", "orchestrator://node/", "orchestrator://node/3x",
                    "orchestrator://node/-3", "https://node/3", "orchestrator://nodes/3", "orchestrator://node/18446744073709551616"] {
            XCTAssertNil(NodeIdentity.nodeID(fromURI: bad), bad)
        }
    }

    func testCertsInitWritesCertificatesThatParseAndCarryTheirNodeID() throws {
        let written = try CertificateFiles.initCluster(directory: directory, nodes: 3, hosts: ["127.0.0.1", "localhost", "::1"], days: 30,
                                                       force: false)
        XCTAssertEqual(written.map { URL(fileURLWithPath: $0).lastPathComponent },
                       ["ca.pem", "ca-key.pem", "node-1.pem", "node-1-key.pem", "node-2.pem", "node-2-key.pem", "node-3.pem", "node-3-key.pem"])
        let ca = try PEMFiles.trustRoots(file("ca.pem"))
        XCTAssertEqual(ca.count, 1)
        let caCertificate = try Certificate(derEncoded: try ca[0].toDERBytes())
        for id: UInt64 in 1...3 {
            let identity = try TLSIdentity.load(certificate: file("node-\(id).pem"), key: file("node-\(id)-key.pem"))
            XCTAssertEqual(identity.nodeIDs, [id])
            XCTAssertEqual(identity.leaf.issuer, caCertificate.subject)
            let names = try XCTUnwrap(try identity.leaf.extensions.subjectAlternativeNames)
            XCTAssertTrue(names.contains(.dnsName("localhost")))
            XCTAssertTrue(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
            XCTAssertTrue(names.contains(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))))
            XCTAssertTrue(names.contains(.uniformResourceIdentifier("orchestrator://node/\(id)")))
            let usages = try XCTUnwrap(try identity.leaf.extensions.extendedKeyUsage)
            XCTAssertTrue(usages.contains(.serverAuth) && usages.contains(.clientAuth))
            // Signed by the CA.
            XCTAssertTrue(caCertificate.publicKey.isValidSignature(identity.leaf.signature, for: identity.leaf))
            XCTAssertEqual(try permissions("node-\(id)-key.pem"), 0o600)
            XCTAssertEqual(try permissions("node-\(id).pem"), 0o644)
        }
        XCTAssertEqual(try permissions("ca-key.pem"), 0o600)
        let caRoots = try PEMFiles.trustRoots(file("ca.pem"))
        XCTAssertNoThrow(try NIOSSLContext(configuration: TLSConfigurations.peerServer(
            identity: try TLSIdentity.load(certificate: file("node-1.pem"), key: file("node-1-key.pem")), clusterCA: caRoots)))
    }

    func testCertsInitRefusesToOverwriteUnlessForced() throws {
        _ = try CertificateFiles.initCluster(directory: directory, nodes: 1, hosts: ["127.0.0.1"], days: 1, force: false)
        let before = try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8)
        XCTAssertThrowsError(try CertificateFiles.initCluster(directory: directory, nodes: 2, hosts: ["127.0.0.1"], days: 1, force: false)) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("ca.pem") && text.contains("already exist") && text.contains("--force"), text)
        }
        XCTAssertEqual(try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8), before, "a refusal writes nothing")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/node-2.pem"))
        _ = try CertificateFiles.initCluster(directory: directory, nodes: 2, hosts: ["127.0.0.1"], days: 1, force: true)
        XCTAssertNotEqual(try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8), before)
    }

    func testCertsNodeIssuesAnotherNodeFromTheSameCA() throws {
        _ = try CertificateFiles.initCluster(directory: directory, nodes: 2, hosts: ["127.0.0.1"], days: 1, force: false)
        _ = try CertificateFiles.issueNode(caDirectory: directory, nodeID: 7, hosts: ["10.1.2.3", "node7.example"], days: 1, force: false)
        let identity = try TLSIdentity.load(certificate: file("node-7.pem"), key: file("node-7-key.pem"))
        XCTAssertEqual(identity.nodeIDs, [7])
        let ca = try Certificate(derEncoded: try PEMFiles.trustRoots(file("ca.pem"))[0].toDERBytes())
        XCTAssertTrue(ca.publicKey.isValidSignature(identity.leaf.signature, for: identity.leaf))
        XCTAssertThrowsError(try CertificateFiles.issueNode(caDirectory: directory, nodeID: 7, hosts: [], days: 1, force: false))
        XCTAssertThrowsError(try CertificateFiles.issueNode(caDirectory: directory + "/missing", nodeID: 8, hosts: [], days: 1, force: false)) {
            XCTAssertTrue("\($0)".contains("ca.pem: no such file"), "\($0)")
        }
    }

    func testUnusableFilesGiveOneLineNamingTheFileAndTheProblem() throws {
        _ = try CertificateFiles.initCluster(directory: directory, nodes: 2, hosts: ["127.0.0.1"], days: 1, force: false)
        func problem(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        let missing = problem { _ = try TLSIdentity.load(certificate: file("nope.pem", "--tls-cert"), key: file("node-1-key.pem")) }
        XCTAssertEqual(missing, "--tls-cert \(directory)/nope.pem: no such file")
        let swapped = problem { _ = try TLSIdentity.load(certificate: file("node-1-key.pem", "--tls-cert"), key: file("node-1.pem")) }
        XCTAssertTrue(swapped.hasPrefix("--tls-cert \(directory)/node-1-key.pem: no PEM certificate in it") && swapped.contains("private key"),
                      swapped)
        let keyIsCertificate = problem { _ = try TLSIdentity.load(certificate: file("node-1.pem"), key: file("node-2.pem", "--tls-key")) }
        XCTAssertTrue(keyIsCertificate.hasPrefix("--tls-key \(directory)/node-2.pem: no PEM private key"), keyIsCertificate)
        let otherKey = problem { _ = try TLSIdentity.load(certificate: file("node-1.pem"), key: file("node-2-key.pem", "--tls-key")) }
        XCTAssertTrue(otherKey.hasPrefix("--tls-key \(directory)/node-2-key.pem: this key does not belong to the certificate"), otherKey)
        let notCA = problem { _ = try PEMFiles.trustRoots(file("node-1.pem", "--cacert")) }
        XCTAssertTrue(notCA.hasPrefix("--cacert \(directory)/node-1.pem: holds a certificate that is not a CA"), notCA)
        try "hello".write(toFile: "\(directory)/garbage.pem", atomically: true, encoding: .utf8)
        let garbage = problem { _ = try PEMFiles.trustRoots(file("garbage.pem", "--peer-ca")) }
        XCTAssertTrue(garbage.hasPrefix("--peer-ca \(directory)/garbage.pem: no PEM certificate"), garbage)
        let expired = problem {
            _ = try TLSIdentity.load(certificate: file("node-1.pem"), key: file("node-1-key.pem"), now: Date().addingTimeInterval(3 * 86_400))
        }
        XCTAssertTrue(expired.contains("expired"), expired)
        let wrongNode = problem {
            _ = try PeerTLS.load(certificate: file("node-1.pem", "--peer-cert"), key: file("node-1-key.pem"), ca: file("ca.pem"), nodeID: 2)
        }
        XCTAssertTrue(wrongNode.hasPrefix("--peer-cert \(directory)/node-1.pem: the certificate is for node 1, not node 2"), wrongNode)
        for text in [missing, swapped, keyIsCertificate, otherKey, notCA, garbage, expired, wrongNode] {
            XCTAssertFalse(text.contains("\n"), "one line: \(text)")
        }
    }

    func testReloadSwapsTheIdentityAndKeepsTheOldOneWhenTheNewFilesAreBad() throws {
        _ = try CertificateFiles.initCluster(directory: directory, nodes: 2, hosts: ["127.0.0.1"], days: 1, force: false)
        let reloadable = try ReloadableIdentity(certificate: file("node-1.pem"), key: file("node-1-key.pem"))
        let first = reloadable.identity.leaf.serialNumber
        // A half-written certificate: the reload fails and the old identity stays.
        try "-----BEGIN CERTIFICATE-----\nAAAA\n".write(toFile: "\(directory)/node-1.pem", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try reloadable.reload())
        XCTAssertEqual(reloadable.identity.leaf.serialNumber, first)
        // A renewed certificate and key: new connections get them.
        _ = try CertificateFiles.issueNode(caDirectory: directory, nodeID: 1, hosts: ["127.0.0.1"], days: 1, force: true)
        let renewed = try reloadable.reload()
        XCTAssertNotEqual(renewed.leaf.serialNumber, first)
        XCTAssertEqual(reloadable.identity.leaf.serialNumber, renewed.leaf.serialNumber)
        XCTAssertNotNil(reloadable.serverConfiguration(clientCA: nil).sslContextCallback)
    }

    private func permissions(_ name: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/\(name)")
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
