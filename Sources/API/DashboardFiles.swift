import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The dashboard's static files (`Sources/API/Dashboard`, shipped as the API target's
/// SwiftPM resources), read once and served from memory at `/ui/`.
///
/// Every answer carries a strict Content-Security-Policy: scripts, styles and requests only
/// from this origin, nothing inline, no frames. The page inserts all data as text, so the
/// policy is a second wall, not the only one.
///
/// The files live next to the executable (`orchestrator_API.resources/Dashboard`, where
/// SwiftPM puts them); a binary copied without that directory still serves the API and
/// answers `/ui/` with a 404 that says where the files were looked for.
struct DashboardFiles: Sendable {
    /// Name → body and content type; nil when the files were not found.
    let files: [String: (body: ByteBuffer, contentType: String)]?
    /// Where the files were looked for (for the 404's message).
    let searched: [String]

    /// The files of this process, read on first use.
    static let shared = DashboardFiles(directories: candidateDirectories())

    /// `default-src 'self'` and what `default-src` does not cover.
    static let contentSecurityPolicy =
        "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    /// Reads the first of `directories` that holds `index.html`.
    init(directories: [URL]) {
        searched = directories.map(\.path)
        for directory in directories where FileManager.default.fileExists(atPath: directory.appendingPathComponent("index.html").path) {
            var files: [String: (ByteBuffer, String)] = [:]
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names {
                guard let type = Self.contentType(of: name),
                      let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
                files[name] = (ByteBuffer(bytes: data), type)
            }
            self.files = files
            return
        }
        files = nil
    }

    /// Where SwiftPM puts the API target's resources: next to the executable (or the test
    /// bundle) that runs.
    static func candidateDirectories() -> [URL] {
        let bundleName = "orchestrator_API.resources"
        var roots: [URL] = []
        if let resources = Bundle.main.resourceURL { roots.append(resources) }
        roots.append(Bundle.main.bundleURL)
        if let executable = Bundle.main.executableURL { roots.append(executable.deletingLastPathComponent()) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        roots.append(executable.deletingLastPathComponent())
        var seen = Set<String>()
        return roots.map { $0.appendingPathComponent(bundleName).appendingPathComponent("Dashboard") }
            .filter { seen.insert($0.path).inserted }
    }

    static func contentType(of name: String) -> String? {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: nil
        }
    }

    /// The file `name` (`""`: `index.html`), or a JSON 404.
    func response(for name: String) throws -> Response {
        guard let files else {
            throw APIError(status: .notFound, code: "dashboard_missing",
                           message: "the dashboard's files are not installed next to this binary; looked in "
                               + searched.joined(separator: ", "))
        }
        guard let file = files[name.isEmpty ? "index.html" : name] else {
            throw APIError(status: .notFound, code: "not_found", message: "no such dashboard file: \(name.prefix(80))")
        }
        var headers = HTTPFields()
        headers[.contentType] = file.contentType
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[Self.referrerPolicy] = "no-referrer"
        // Small files that change with the binary: revalidate rather than serve a stale page.
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: file.body))
    }

    /// `/ui` → `ui/`: relative, so it works behind a path prefix.
    func redirectToDirectory(_ request: Request) -> Response {
        var headers = HTTPFields()
        headers[.location] = "ui/"
        return Response(status: .movedPermanently, headers: headers)
    }
}
