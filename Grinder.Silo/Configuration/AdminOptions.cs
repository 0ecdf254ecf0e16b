namespace Grinder.Silo.Configuration;

/// <summary>Protection of the dashboard and admin endpoints (section <c>Grinder:Admin</c>; alias <c>GRINDER_ADMIN_TOKEN</c>).</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Grinder:Admin";

    /// <summary>Bearer token (or Basic password) required from non-loopback clients. Empty: non-loopback clients are refused.</summary>
    public string? Token { get; set; }

    public override string ToString() => $"AdminOptions(Token={(string.IsNullOrEmpty(Token) ? "unset" : "***")})";
}
