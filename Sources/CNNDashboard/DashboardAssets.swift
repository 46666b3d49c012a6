import Foundation

/// The page's files, shipped in the package as resources. The server answers only these
/// names, looked up in a fixed table: no request path ever becomes a file path, so no path
/// (`/../../etc/passwd`, `%2e%2e/…`, `//etc/passwd`) can reach any other file.
public enum DashboardAssets {
  /// Request path → (resource file, content type).
  public static let table: [String: (file: String, contentType: String)] = [
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
  ]

  /// The bytes and content type of the asset served at `path`, or `nil` for any other path.
  public static func asset(at path: String) -> (data: Data, contentType: String)? {
    guard let entry = table[path], let data = contents[entry.file] else { return nil }
    return (data, entry.contentType)
  }

  /// The files, read once from the module's bundle.
  static let contents: [String: Data] = {
    var files: [String: Data] = [:]
    for name in Set(table.values.map(\.file)) {
      let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Page")
      if let url, let data = try? Data(contentsOf: url) { files[name] = data }
    }
    return files
  }()
}
