import { useEffect, useState } from 'react';
import { fetchServerConfig, type ServerConfig } from '../api/config';

/** The server's limits, or null until they are known (or when the server cannot be asked). */
export function useServerConfig(): ServerConfig | null {
  const [config, setConfig] = useState<ServerConfig | null>(null);
  useEffect(() => {
    let current = true;
    fetchServerConfig().then(
      (fetched) => current && setConfig(fetched),
      () => undefined, // the server's own checks still answer, with their reasons
    );
    return () => {
      current = false;
    };
  }, []);
  return config;
}
