import { useEffect, useState } from 'react';
import { fetchMe, GUEST, knownMe, type Me, onMeChanged, onSessionChanged } from '../api/me';

/** Who the page is signed in as; undefined until the server has said. */
export function useMe(): Me | undefined {
  const [me, setMe] = useState<Me | undefined>(knownMe() ?? undefined);
  useEffect(() => {
    let current = true;
    const ask = () =>
      fetchMe().then(
        (fetched) => current && setMe(fetched),
        () => current && setMe((before) => before ?? GUEST), // the server could not say
      );
    const known = knownMe();
    if (known === null) ask();
    else setMe(known);
    const stopChanges = onMeChanged((changed) => setMe(changed));
    const stopSession = onSessionChanged(ask);
    return () => {
      current = false;
      stopChanges();
      stopSession();
    };
  }, []);
  return me;
}
