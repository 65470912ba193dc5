/// The HTTP API (placeholder until the routes land).
enum APINamespace {}
