import ClusterTLS
import Server
import XCTest

/// Secure by default: a node listening beyond loopback needs tokens and TLS for its API and
/// mutual TLS for Raft, or `--insecure`; on loopback nothing is asked.
final class ExposureTests: XCTestCase {
    func config(api: String, raft: String = "127.0.0.1:7080") -> ServerConfig {
        var config = ServerConfig()
        config.apiAddress = ServerConfig.parseAddress(api)!
        config.raftAddress = ServerConfig.parseAddress(raft)!
        return config
    }

    func testLoopbackNeedsNothing() {
        for host in ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"] {
            XCTAssertNil(config(api: "\(host):8080").exposureProblem, host)
        }
        XCTAssertFalse(ServerConfig.isLoopback("0.0.0.0"))
        XCTAssertFalse(ServerConfig.isLoopback("10.0.0.1"))
        XCTAssertFalse(ServerConfig.isLoopback("127.0.0.1.example.com"))
    }

    func testAnExposedAPINeedsTokensAndTLS() throws {
        var exposed = config(api: "0.0.0.0:8080")
        let neither = try XCTUnwrap(exposed.exposureProblem)
        XCTAssertTrue(neither.contains("API tokens") && neither.contains("TLS (--tls-cert, --tls-key)"), neither)
        XCTAssertThrowsError(try exposed.validate())

        exposed.requireToken = true
        let noTLS = try XCTUnwrap(exposed.exposureProblem)
        XCTAssertFalse(noTLS.contains("API tokens"), noTLS)
        XCTAssertTrue(noTLS.contains("--tls-cert"), noTLS)

        exposed.tls = APITLSFiles(certificate: TLSFile("cert.pem", setting: "--tls-cert"), key: TLSFile("key.pem", setting: "--tls-key"))
        XCTAssertNil(exposed.exposureProblem)
        exposed.requireToken = false
        exposed.bootstrapTokenFile = "admin.token"
        XCTAssertNil(exposed.exposureProblem, "a bootstrap file is a token setting too")
    }

    func testAnExposedRaftPortNeedsMutualTLS() throws {
        var exposed = config(api: "127.0.0.1:8080", raft: "10.1.2.3:7080")
        let problem = try XCTUnwrap(exposed.exposureProblem)
        XCTAssertTrue(problem.contains("--raft 10.1.2.3:7080") && problem.contains("--peer-cert"), problem)
        exposed.peerTLS = PeerTLSFiles(certificate: TLSFile("n.pem", setting: "--peer-cert"), key: TLSFile("k.pem", setting: "--peer-key"),
                                       ca: TLSFile("ca.pem", setting: "--peer-ca"))
        XCTAssertNil(exposed.exposureProblem)
    }

    func testInsecureStartsAndSaysWhatIsOpen() throws {
        var exposed = config(api: "0.0.0.0:8080")
        exposed.insecure = true
        XCTAssertNotNil(exposed.exposureProblem, "the problem is still there")
        let warning = try XCTUnwrap(exposed.insecureExposure)
        XCTAssertTrue(warning.contains("API on 0.0.0.0:8080"), warning)
        XCTAssertNil(config(api: "127.0.0.1:8080").insecureExposure)
    }
}
