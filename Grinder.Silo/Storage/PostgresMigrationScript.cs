using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Grinder.Silo.Storage;

/// <summary>One numbered schema file, e.g. <c>002_cluster_membership.sql</c>.</summary>
/// <param name="Number">The leading number; scripts apply in ascending order.</param>
/// <param name="Name">The file name, recorded in <c>grinder_schema_migrations</c>.</param>
/// <param name="Sql">The script text.</param>
public sealed partial record PostgresMigrationScript(int Number, string Name, string Sql)
{
    /// <summary>Lowercase hex SHA-256 of the script text (line endings normalised), recorded when applied.</summary>
    public string Checksum => Convert.ToHexStringLower(
        SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));

    /// <summary>The scripts under <c>infra/postgres/</c>, embedded into Grinder.Silo at build time, in order.</summary>
    public static IReadOnlyList<PostgresMigrationScript> Embedded { get; } = LoadEmbedded();

    /// <summary>Builds a script from a file name of the form <c>NNN_name.sql</c>.</summary>
    /// <exception cref="ArgumentException">The name does not have that form.</exception>
    public static PostgresMigrationScript FromFile(string fileName, string sql)
    {
        var match = FileNamePattern().Match(fileName);
        if (!match.Success)
        {
            throw new ArgumentException(
                $"Schema script '{fileName}' must be named NNN_description.sql (three digits, then a name).",
                nameof(fileName));
        }

        return new PostgresMigrationScript(
            int.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture), match.Value, sql);
    }

    private static List<PostgresMigrationScript> LoadEmbedded()
    {
        var assembly = typeof(PostgresMigrationScript).Assembly;
        var scripts = new List<PostgresMigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            // The csproj embeds ..\infra\postgres\*.sql under the logical folder "Schema"; MSBuild
            // turns that into "<RootNamespace>.Schema.<file name>".
            const string folder = ".Schema.";
            var at = resource.IndexOf(folder, StringComparison.Ordinal);
            if (at < 0 || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            scripts.Add(FromFile(resource[(at + folder.Length)..], ReadResource(assembly, resource)));
        }

        var duplicate = scripts.GroupBy(s => s.Number).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException(
                $"Schema scripts share the number {duplicate.Key:000}: {string.Join(", ", duplicate.Select(s => s.Name))}.");
        }

        scripts.Sort((a, b) => a.Number.CompareTo(b.Number));
        return scripts;
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded schema script {resource} cannot be opened.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^(?<number>\d{3})_[A-Za-z0-9_]+\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex FileNamePattern();
}
