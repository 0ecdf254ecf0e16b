using System.Net;
using System.Net.Sockets;

namespace Grinder.Tests.Infrastructure;

/// <summary>Loopback TCP ports that were free a moment ago (the OS hands out each ephemeral port once in a while, not twice in a row).</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
