namespace Grinder.Silo.Configuration;

/// <summary>Orleans endpoint and cluster identity (section <c>Grinder:Orleans</c>). Several silos on one host need distinct ports.</summary>
public sealed class OrleansHostOptions
{
    public const string SectionName = "Grinder:Orleans";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Address other silos reach this one at, in PostgreSQL mode: an IP, or <c>auto</c> for this host's first IPv4
    /// address (containers). Local mode always uses loopback.
    /// </summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Silos with the same cluster id on one database form one cluster.</summary>
    public string ClusterId { get; set; } = "grinder";

    /// <summary>Keys stored grain state; changing it orphans existing cursors.</summary>
    public string ServiceId { get; set; } = "grinder";

    public static IEnumerable<string> Validate(OrleansHostOptions options)
    {
        if (options.SiloPort is < 1 or > 65535)
        {
            yield return "Grinder:Orleans:SiloPort must be a TCP port (1-65535)";
        }

        if (options.GatewayPort is < 1 or > 65535)
        {
            yield return "Grinder:Orleans:GatewayPort must be a TCP port (1-65535)";
        }

        if (options.SiloPort == options.GatewayPort)
        {
            yield return "Grinder:Orleans:SiloPort and Grinder:Orleans:GatewayPort must differ";
        }

        if (options.AdvertisedAddress != "auto" && !System.Net.IPAddress.TryParse(options.AdvertisedAddress, out _))
        {
            yield return "Grinder:Orleans:AdvertisedAddress must be an IP address or 'auto'";
        }

        if (string.IsNullOrWhiteSpace(options.ClusterId) || string.IsNullOrWhiteSpace(options.ServiceId))
        {
            yield return "Grinder:Orleans:ClusterId and Grinder:Orleans:ServiceId must not be empty";
        }
    }
}
