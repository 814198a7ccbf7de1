import { parseDigits, serialError, serialText, type SerialResult } from '../runtime/serial.ts';

// Plan Vivo serials on the S&P Global platform (captured 2026-07):
//   PV-rPVC-MZ-110200000000034-01052022-30042023-1-2550-SPG
//   PV-<unit class>-<ISO2>-<project id>-<vintage start DDMMYYYY>-<vintage end DDMMYYYY>-<start>-<end>-SPG
// Nothing published says over what the numbers run, but the captures show it: project 110200000000070
// numbers on across unit classes and vintages (rPVC 2020–2023 up to 14009, then fPVC 2020–2042 from
// 14633, 2023–2043 from 39203, 2024–2044 from 85668), and project 110200000000034 starts at 1. So the
// number space is the project.

const DATE = /^(\d{2})(\d{2})(\d{4})$/;

function isoDate(token: string | undefined): string | undefined {
  const m = token ? DATE.exec(token) : null;
  if (!m) return undefined;
  const [, d, mo, y] = m;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (date.getUTCDate() !== Number(d) || date.getUTCMonth() !== Number(mo) - 1) return undefined;
  return `${y}-${mo}-${d}`;
}

export function parsePlanVivoSerial(raw: string): SerialResult {
  const text = serialText(raw);
  if (!text.ok) return text;
  const tokens = text.text.split('-');
  if (tokens.length !== 9) return serialError(text.text, `expected 9 dash-separated parts (PV-<class>-<country>-<project>-<from>-<to>-<start>-<end>-SPG), found ${tokens.length}`);
  const [program, unitClass, country, project, from, to, first, last, suffix] = tokens as [string, string, string, string, string, string, string, string, string];
  if (program !== 'PV' || suffix !== 'SPG') return serialError(text.text, 'a Plan Vivo serial starts with PV- and ends with -SPG');
  if (!/^[A-Za-z]+$/.test(unitClass)) return serialError(text.text, `"${unitClass}" is not a unit class`);
  if (!/^[A-Z]{2}$/.test(country)) return serialError(text.text, `"${country}" is not a country code`);
  if (!/^\d+$/.test(project)) return serialError(text.text, `"${project}" is not a project id`);
  const vintageStart = isoDate(from);
  const vintageEnd = isoDate(to);
  if (!vintageStart || !vintageEnd) return serialError(text.text, `"${from}" to "${to}" is not a vintage period (DDMMYYYY)`);
  if (vintageEnd < vintageStart) return serialError(text.text, `the vintage ends (${vintageEnd}) before it starts (${vintageStart})`);
  const start = parseDigits(first);
  const end = parseDigits(last);
  if (start === undefined || end === undefined) return serialError(text.text, `"${first}" and "${last}" must be whole numbers`);
  if (end < start) return serialError(text.text, `end ${end} is before start ${start}`);
  return {
    ok: true,
    range: {
      numberSpace: `plan-vivo:${project}`,
      start,
      end,
      raw: text.text,
      projectId: project,
      country,
      vintageYear: Number(vintageStart.slice(0, 4)),
      vintageStart,
      vintageEnd,
    },
  };
}
