/** doctor's `tz`: the containers' time zone (the setting, else the host's) is one Intl knows. */
import { hostTimeZone } from '../../project/locate.js';
import { type Check, fail, pass } from './check.js';

export const tzCheck: Check = async ({ env, settings }) => {
  const zone = settings?.tz || hostTimeZone(env);
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return [pass('tz', `${zone}${settings?.tz ? ' (setting)' : ' (from the host)'}`)];
  } catch {
    return [fail('tz', `"${zone}" is not a known time zone`, 'Use an IANA name such as Europe/Berlin: cctl init --tz Europe/Berlin')];
  }
};
