namespace Grinder.Silo.Configuration;

/// <summary>Where grain state and cluster membership live (section <c>Grinder:Storage</c>; aliases <c>GRINDER_POSTGRES</c>, <c>ConnectionStrings:Grinder</c>, <c>GRINDER_DATA_DIR</c>).</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Grinder:Storage";

    /// <summary>Npgsql connection string. Empty means local mode (file storage, localhost clustering).</summary>
    public string? Postgres { get; set; }

    /// <summary>Directory of the file-backed grain storage in local mode.</summary>
    public string DataDirectory { get; set; } = ".grinder";

    public bool UsePostgres => !string.IsNullOrWhiteSpace(Postgres);
}
