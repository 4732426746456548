// Name parts for generated persons and staff: common family names and given names of people born 1925–1985, in
// kanji with their reading in katakana (forms that print the reading in hiragana get it converted).

export interface NamePart {
  kanji: string;
  kana: string;
}

const parts = (list: string): NamePart[] =>
  list
    .trim()
    .split(/\s+/)
    .map((pair) => {
      const [kanji, kana] = pair.split(':') as [string, string];
      return { kanji, kana };
    });

export const FAMILY_NAMES = parts(`
  佐藤:サトウ 鈴木:スズキ 高橋:タカハシ 田中:タナカ 伊藤:イトウ 渡辺:ワタナベ 山本:ヤマモト 中村:ナカムラ
  小林:コバヤシ 加藤:カトウ 吉田:ヨシダ 山田:ヤマダ 佐々木:ササキ 山口:ヤマグチ 松本:マツモト 井上:イノウエ
  木村:キムラ 林:ハヤシ 斎藤:サイトウ 清水:シミズ 山崎:ヤマザキ 森:モリ 池田:イケダ 橋本:ハシモト 阿部:アベ
  石川:イシカワ 山下:ヤマシタ 中島:ナカジマ 石井:イシイ 小川:オガワ 前田:マエダ 岡田:オカダ 長谷川:ハセガワ
  藤田:フジタ 後藤:ゴトウ 近藤:コンドウ 村上:ムラカミ 遠藤:エンドウ 青木:アオキ 坂本:サカモト 比嘉:ヒガ
`);

export const FEMALE_GIVEN_NAMES = parts(`
  花子:ハナコ 和子:カズコ 節子:セツコ 幸子:サチコ 洋子:ヨウコ 京子:キョウコ 弘子:ヒロコ 久子:ヒサコ 悦子:エツコ
  美代子:ミヨコ 恵子:ケイコ 文子:フミコ 芳子:ヨシコ 照子:テルコ 千代:チヨ 静江:シズエ 昭子:アキコ 光子:ミツコ
  清子:キヨコ 君子:キミコ トミ:トミ ハル:ハル 信子:ノブコ 道子:ミチコ 由美子:ユミコ 幸枝:ユキエ
`);

export const MALE_GIVEN_NAMES = parts(`
  一郎:イチロウ 正男:マサオ 清:キヨシ 茂:シゲル 博:ヒロシ 実:ミノル 勇:イサム 進:ススム 勝:マサル 稔:ミノル
  武:タケシ 明:アキラ 修:オサム 昭:アキラ 正:タダシ 弘:ヒロシ 隆:タカシ 健一:ケンイチ 幸雄:ユキオ 義雄:ヨシオ
  三郎:サブロウ 次郎:ジロウ 和夫:カズオ 秀夫:ヒデオ 徹:トオル 誠:マコト
`);

/** Katakana → hiragana (the forms that print the reading in hiragana). */
export const toHiragana = (s: string): string =>
  s.replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));

/** Half-width digits → full-width (era dates written with full-width digits). */
export const toFullWidthDigits = (s: string): string =>
  s.replace(/[0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
