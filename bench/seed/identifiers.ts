// Japanese insurance numbers for generated persons and organisations, each with the check digit the project checks
// (src/engine/forms/check-digits.ts, modulus 10 weights 2-1 over the digits before it). The project checks it on
// 保険者番号 and 介護保険事業所番号; 医療機関コード uses the same rule (docs/domain.md §8.2) though no form checks it,
// so generated codes carry a valid one anyway.
import { mod10Weights21 } from '../../src/engine/forms/check-digits.js';

export const withCheckDigit = (digits: string): string => `${digits}${mod10Weights21(digits)}`;

/** 保険者番号 (6 digits): the 5-digit 地方公共団体コード and the check digit. */
export const insurerNumber = (municipalityCode: string): string => withCheckDigit(municipalityCode);

/**
 * 介護保険事業所番号 (10 digits): 都道府県 2 + 事業所区分 7 (介護保険) + 郡市区 2 + 番号 4 + check digit. The 郡市区
 * digits are taken from the municipality code so offices of one city share them.
 */
export const careOfficeNumber = (municipalityCode: string, serial: number): string =>
  withCheckDigit(`${municipalityCode.slice(0, 2)}7${municipalityCode.slice(2, 4)}${pad(serial, 4)}`);

/** 医療機関コード (10 digits): 都道府県 2 + 点数表 1 (医科) + 郡市区 2 + 番号 4 + check digit. */
export const medicalInstitutionCode = (municipalityCode: string, serial: number): string =>
  withCheckDigit(`${municipalityCode.slice(0, 2)}1${municipalityCode.slice(2, 4)}${pad(serial, 4)}`);

export const hasValidCheckDigit = (code: string): boolean =>
  /^[0-9]{2,}$/.test(code) && mod10Weights21(code.slice(0, -1)) === Number(code.slice(-1));

export function pad(n: number, width: number): string {
  const s = String(n);
  if (s.length > width) throw new Error(`${n} does not fit in ${width} digits`);
  return s.padStart(width, '0');
}
