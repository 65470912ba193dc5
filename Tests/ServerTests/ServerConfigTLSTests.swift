import ClusterTLS
import Foundation
import Server
import XCTest

/// The `tls` and `peer_tls` settings: config keys, flags' partners, and what they change.
final class ServerConfigTLSTests: XCTestCase {
    private func load(_ yaml: String) throws(ConfigError) -> ServerConfig { try loadConfigFile(yaml) }

    func testConfigKeysSetTheFilesAndRememberWhereTheyCameFrom() throws {
        let config = try load("""
            node_id: 1
            tls:
              cert: c.pem
              key: k.pem
              client_ca: ca.pem
            peer_tls: { cert: p.pem, key: pk.pem, ca: ca.pem }
            peers:
              - { id: 2, raft: 127.0.0.1:7082, api: 127.0.0.1:8082 }
            """)
        XCTAssertEqual(config.tls.certificate?.path, "c.pem")
        XCTAssertTrue(config.tls.certificate?.setting.hasSuffix(":3:3: tls.cert") ?? false, "\(String(describing: config.tls.certificate))")
        XCTAssertEqual(config.tls.clientCA?.path, "ca.pem")
        XCTAssertEqual(config.peerTLS.ca?.path, "ca.pem")
        XCTAssertNoThrow(try config.validate())
        // With TLS the API addresses, this node's and its peers', are https.
        XCTAssertEqual(config.ownAddress.api, "https://127.0.0.1:8080")
        XCTAssertEqual(config.initialAddresses[2]?.api, "https://127.0.0.1:8082")
    }

    func testWithoutTLSTheAddressesStayHTTP() throws {
        let config = try load("peers:\n  - { id: 2, raft: 127.0.0.1:7082, api: 127.0.0.1:8082 }\n")
        XCTAssertEqual(config.ownAddress.api, "http://127.0.0.1:8080")
        XCTAssertEqual(config.initialAddresses[2]?.api, "http://127.0.0.1:8082")
    }

    func testUnknownOrMalformedTLSKeysAreErrorsWithTheirPlace() {
        XCTAssertThrowsError(try load("tls:\n  cert: c.pem\n  kee: k.pem\n")) {
            XCTAssertTrue("\($0)".hasSuffix(":3:3: unknown key 'tls.kee' (known: cert, key, client_ca)"), "\($0)")
        }
        XCTAssertThrowsError(try load("peer_tls: yes\n")) {
            XCTAssertTrue("\($0)".contains("'peer_tls' must be a mapping of cert, key, ca"), "\($0)")
        }
    }

    func testTLSSettingsNeedTheirPartners() {
        var config = ServerConfig()
        config.tls.certificate = TLSFile("c.pem", setting: "--tls-cert")
        XCTAssertThrowsError(try config.validate()) {
            XCTAssertEqual("\($0)", "--tls-cert needs a key too: give --tls-key FILE (config: tls.key)")
        }
        config = ServerConfig()
        config.tls.clientCA = TLSFile("ca.pem", setting: "--tls-client-ca")
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".hasPrefix("--tls-client-ca applies to HTTPS only"), "\($0)") }
        config = ServerConfig()
        config.peerTLS.certificate = TLSFile("p.pem", setting: "--peer-cert")
        config.peerTLS.key = TLSFile("pk.pem", setting: "--peer-key")
        XCTAssertThrowsError(try config.validate()) {
            XCTAssertTrue("\($0)".hasSuffix("also give --peer-ca FILE (config: peer_tls.ca)"), "\($0)")
        }
    }
}
