/*
 * rfc8448.h: test vectors of RFC 8448 ("Example Handshake Traces for TLS
 * 1.3"), §3 "Simple 1-RTT Handshake", §4 "Resumed 0-RTT Handshake" and the
 * start of §5 "HelloRetryRequest" (TLS_AES_128_GCM_SHA256; x25519, P-256
 * in §5). Test data only.
 *
 * Each value is one field of the RFC's trace, named by section, step and
 * field as the RFC prints them, with its octet count: R8448(name, octets,
 * hex). The hex was copied from the RFC text field by field, page breaks
 * removed; test_tls13_keys checks every value's length against the
 * stated octet count before using it.
 */
#ifndef TLSHIM_TESTS_KAT_RFC8448_H
#define TLSHIM_TESTS_KAT_RFC8448_H

typedef struct r8448 {
	const char *hex;
	unsigned octets;
} r8448;

#define R8448(name, octets, hex) static const r8448 name = {hex, octets}

/* §3 {client} construct a ClientHello handshake message: ClientHello */
R8448(S3_CH, 196,
      "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef"
      "6283024dece7000006130113031302010000910000000b000900000673657276"
      "6572ff01000100000a00140012001d0017001800190100010101020103010400"
      "230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e"
      "51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603"
      "020308040805080604010501060102010402050206020202002d00020101001c"
      "00024001");
/* §3 {server} construct a ServerHello handshake message: ServerHello */
R8448(S3_SH, 90,
      "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155"
      "772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdb"
      "f7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304");
/* §3 {server} extract secret "early": secret */
R8448(S3_EARLY, 32, "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
/* §3 {server} derive secret for handshake "tls13 derived": hash */
R8448(S3_EMPTY_HASH, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/* §3 {server} derive secret for handshake "tls13 derived": info */
R8448(S3_DERIVED_INFO, 49,
      "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb9"
      "2427ae41e4649b934ca495991b7852b855");
/* §3 {server} derive secret for handshake "tls13 derived": expanded */
R8448(S3_DERIVED, 32, "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
/* §3 {server} extract secret "handshake": IKM */
R8448(S3_DHE, 32, "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d");
/* §3 {server} extract secret "handshake": secret */
R8448(S3_HS, 32, "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac");
/* §3 {server} derive secret "tls13 c hs traffic": hash */
R8448(S3_CH_SH_HASH, 32, "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
/* §3 {server} derive secret "tls13 c hs traffic": info */
R8448(S3_C_HS_INFO, 54,
      "002012746c7331332063206873207472616666696320860c06edc07858ee8e78"
      "f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
/* §3 {server} derive secret "tls13 c hs traffic": expanded */
R8448(S3_C_HS, 32, "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
/* §3 {server} derive secret "tls13 s hs traffic": info */
R8448(S3_S_HS_INFO, 54,
      "002012746c7331332073206873207472616666696320860c06edc07858ee8e78"
      "f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
/* §3 {server} derive secret "tls13 s hs traffic": expanded */
R8448(S3_S_HS, 32, "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
/* §3 {server} derive secret for master "tls13 derived": expanded */
R8448(S3_DERIVED2, 32, "43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4");
/* §3 {server} extract secret "master": secret */
R8448(S3_MASTER, 32, "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919");
/* §3 {server} derive write traffic keys for handshake data: key info */
R8448(S3_KEY_INFO, 13, "001009746c733133206b657900");
/* §3 {server} derive write traffic keys for handshake data: iv info */
R8448(S3_IV_INFO, 12, "000c08746c73313320697600");
/* §3 {server} derive write traffic keys for handshake data: key expanded */
R8448(S3_S_HS_KEY, 16, "3fce516009c21727d0f2e4e86ee403bc");
/* §3 {server} derive write traffic keys for handshake data: iv expanded */
R8448(S3_S_HS_IV, 12, "5d313eb2671276ee13000b30");
/* §3 {server} construct an EncryptedExtensions handshake message: EncryptedExtensions */
R8448(S3_EE, 40,
      "080000240022000a00140012001d00170018001901000101010201030104001c"
      "0002400100000000");
/* §3 {server} construct a Certificate handshake message: Certificate */
R8448(S3_CERT, 445,
      "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a"
      "864886f70d01010b0500300e310c300a06035504031303727361301e170d3136"
      "303733303031323335395a170d3236303733303031323335395a300e310c300a"
      "0603550403130372736130819f300d06092a864886f70d010101050003818d00"
      "30818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826"
      "d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312"
      "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda4308467480"
      "30530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a"
      "8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355"
      "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5"
      "b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a5"
      "8c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102"
      "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0"
      "a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de10000");
/* §3 {server} construct a CertificateVerify handshake message: CertificateVerify */
R8448(S3_CV, 136,
      "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145a"
      "b3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef780c5ea248ee"
      "aaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c"
      "9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea2"
      "0d53dfacd42f74f3");
/* §3 {server} calculate finished "tls13 finished": info */
R8448(S3_FIN_INFO, 18, "00200e746c7331332066696e697368656400");
/* §3 {server} calculate finished "tls13 finished": expanded */
R8448(S3_S_FINKEY, 32, "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8");
/* §3 {server} calculate finished "tls13 finished": finished */
R8448(S3_S_FIN, 32, "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718");
/* §3 {server} construct a Finished handshake message: Finished */
R8448(S3_S_FINISHED, 36,
      "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454"
      "b78f0718");
/* §3 {server} send handshake record: payload */
R8448(S3_S_HS_PAYLOAD, 657,
      "080000240022000a00140012001d00170018001901000101010201030104001c"
      "00024001000000000b0001b9000001b50001b0308201ac30820115a003020102"
      "020102300d06092a864886f70d01010b0500300e310c300a0603550403130372"
      "7361301e170d3136303733303031323335395a170d3236303733303031323335"
      "395a300e310c300a0603550403130372736130819f300d06092a864886f70d01"
      "0101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c"
      "0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19e"
      "aa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e2"
      "2a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a"
      "8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304"
      "023000300b0603551d0f0404030205a0300d06092a864886f70d01010b050003"
      "81810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594"
      "365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd"
      "335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb"
      "2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4"
      "2b4de100000f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f82"
      "4cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef78"
      "0c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671"
      "459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda"
      "65cdf5aea20d53dfacd42f74f3140000209b9b141d906337fbd2cbdce71df4de"
      "da4ab42c309572cb7fffee5454b78f0718");
/* §3 {server} send handshake record: complete record */
R8448(S3_S_HS_RECORD, 679,
      "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35e"
      "df7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78"
      "b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13b"
      "d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9"
      "d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2e"
      "d65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd61092"
      "8d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead68694"
      "5ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b368"
      "4596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f"
      "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26"
      "f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b65962224531"
      "7b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e"
      "1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da"
      "8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d4"
      "61e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe"
      "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb"
      "992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c859"
      "77b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038"
      "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b84"
      "5e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5"
      "d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e"
      "750edc53370d2b");
/* §3 {server} derive secret "tls13 c ap traffic": hash */
R8448(S3_CH_SF_HASH, 32, "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13");
/* §3 {server} derive secret "tls13 c ap traffic": info */
R8448(S3_C_AP_INFO, 54,
      "002012746c73313320632061702074726166666963209608102a0f1ccc6db625"
      "0b7b7e417b1a000eaada3daae4777a7686c9ff83df13");
/* §3 {server} derive secret "tls13 c ap traffic": expanded */
R8448(S3_C_AP, 32, "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5");
/* §3 {server} derive secret "tls13 s ap traffic": info */
R8448(S3_S_AP_INFO, 54,
      "002012746c73313320732061702074726166666963209608102a0f1ccc6db625"
      "0b7b7e417b1a000eaada3daae4777a7686c9ff83df13");
/* §3 {server} derive secret "tls13 s ap traffic": expanded */
R8448(S3_S_AP, 32, "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
/* §3 {server} derive secret "tls13 exp master": info */
R8448(S3_EXP_INFO, 52,
      "002010746c73313320657870206d6173746572209608102a0f1ccc6db6250b7b"
      "7e417b1a000eaada3daae4777a7686c9ff83df13");
/* §3 {server} derive secret "tls13 exp master": expanded */
R8448(S3_EXP, 32, "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50");
/* §3 {server} derive write traffic keys for application data: key expanded */
R8448(S3_S_AP_KEY, 16, "9f02283b6c9c07efc26bb9f2ac92e356");
/* §3 {server} derive write traffic keys for application data: iv expanded */
R8448(S3_S_AP_IV, 12, "cf782b88dd83549aadf1e984");
/* §3 {server} derive read traffic keys for handshake data: key expanded */
R8448(S3_C_HS_KEY, 16, "dbfaa693d1762c5b666af5d950258d01");
/* §3 {server} derive read traffic keys for handshake data: iv expanded */
R8448(S3_C_HS_IV, 12, "5bd3c71b836e0b76bb73265f");
/* §3 {client} calculate finished "tls13 finished": expanded */
R8448(S3_C_FINKEY, 32, "b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4");
/* §3 {client} calculate finished "tls13 finished": finished */
R8448(S3_C_FIN, 32, "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61");
/* §3 {client} construct a Finished handshake message: Finished */
R8448(S3_C_FINISHED, 36,
      "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2"
      "edd5ce61");
/* §3 {client} send handshake record: complete record */
R8448(S3_C_FIN_RECORD, 58,
      "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc"
      "44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546");
/* §3 {client} derive write traffic keys for application data: key expanded */
R8448(S3_C_AP_KEY, 16, "17422dda596ed5d9acd890e3c63f5051");
/* §3 {client} derive write traffic keys for application data: iv expanded */
R8448(S3_C_AP_IV, 12, "5b78923dee08579033e523d9");
/* §3 {client} derive secret "tls13 res master": hash */
R8448(S3_CH_CF_HASH, 32, "209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d");
/* §3 {client} derive secret "tls13 res master": info */
R8448(S3_RES_INFO, 52,
      "002010746c73313320726573206d617374657220209145a96ee8e2a122ff8100"
      "47cc952684658d6049e86429426db87c54ad143d");
/* §3 {client} derive secret "tls13 res master": expanded */
R8448(S3_RES, 32, "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c");
/* §3 {server} generate resumption secret "tls13 resumption": info */
R8448(S3_PSK_INFO, 22, "002010746c73313320726573756d7074696f6e020000");
/* §3 {server} generate resumption secret "tls13 resumption": expanded */
R8448(S3_PSK, 32, "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3");
/* §3 {server} construct a NewSessionTicket handshake message: NewSessionTicket */
R8448(S3_NST, 205,
      "040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec9000000"
      "00262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785a"
      "bc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827"
      "db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529"
      "513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea61764"
      "6fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a"
      "e4d3570008002a000400000400");
/* §3 {server} send handshake record: complete record */
R8448(S3_NST_RECORD, 227,
      "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d4"
      "1d6af8f6b580dcf3d11d63c758db289a015940252f55713e061dc13e078891a3"
      "8efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e0"
      "9c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406"
      "f16e3fc181a77ca475840025db2f0a77f81b5ab05b94c01346755f69232c8651"
      "9d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74"
      "bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf159"
      "85684f");
/* §3 {client} send application_data record: payload */
R8448(S3_C_APP_PAYLOAD, 50,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
      "202122232425262728292a2b2c2d2e2f3031");
/* §3 {client} send application_data record: complete record */
R8448(S3_C_APP_RECORD, 72,
      "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f"
      "2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae6"
      "3aeebb21694915e4");
/* §3 {server} send application_data record: payload */
R8448(S3_S_APP_PAYLOAD, 50,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
      "202122232425262728292a2b2c2d2e2f3031");
/* §3 {server} send application_data record: complete record */
R8448(S3_S_APP_RECORD, 72,
      "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36"
      "e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf33254"
      "0dd032e167c2955d");
/* §3 {client} send alert record: payload */
R8448(S3_C_ALERT_PAYLOAD, 2, "0100");
/* §3 {client} send alert record: complete record */
R8448(S3_C_ALERT_RECORD, 24, "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3");
/* §3 {server} send alert record: payload */
R8448(S3_S_ALERT_PAYLOAD, 2, "0100");
/* §3 {server} send alert record: complete record */
R8448(S3_S_ALERT_RECORD, 24, "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9");
/* §4 {client} extract secret "early": IKM */
R8448(S4_PSK_IKM, 32, "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3");
/* §4 {client} extract secret "early": secret */
R8448(S4_EARLY, 32, "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c");
/* §4 {client} calculate PSK binder: ClientHello prefix */
R8448(S4_CH_PREFIX, 477,
      "010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc41"
      "9d7876487d95000006130113031302010001cd0000000b000900000673657276"
      "6572ff01000100000a00140012001d0017001800190100010101020103010400"
      "3300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe"
      "051a66b4f18d668f0b002a0000002b0003020304000d0020001e040305030603"
      "020308040805080604010501060102010402050206020202002d00020101001c"
      "0002400100150057000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "2900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a"
      "34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a98211"
      "7283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3"
      "664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b"
      "3f7d8f92f228bda40dda721470f9fbf297b5aea617646fac5c03272e970727c6"
      "21a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb");
/* §4 {client} calculate PSK binder: binder hash */
R8448(S4_BINDER_HASH, 32, "63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14");
/* §4 {client} calculate PSK binder: PRK */
R8448(S4_BINDER_KEY, 32, "69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256");
/* §4 {client} calculate PSK binder: expanded */
R8448(S4_BINDER_FINKEY, 32, "5588673e72cb59c87d220caffe94f2dea9a3b1609f7d50e90a48227db9ed7eaa");
/* §4 {client} calculate PSK binder: finished */
R8448(S4_BINDER, 32, "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d");
/* §4 {client} send handshake record: payload */
R8448(S4_CH, 512,
      "010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc41"
      "9d7876487d95000006130113031302010001cd0000000b000900000673657276"
      "6572ff01000100000a00140012001d0017001800190100010101020103010400"
      "3300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe"
      "051a66b4f18d668f0b002a0000002b0003020304000d0020001e040305030603"
      "020308040805080604010501060102010402050206020202002d00020101001c"
      "0002400100150057000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "2900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a"
      "34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a98211"
      "7283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3"
      "664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b"
      "3f7d8f92f228bda40dda721470f9fbf297b5aea617646fac5c03272e970727c6"
      "21a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb002120"
      "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d");
/* §4 {client} derive secret "tls13 c e traffic": hash */
R8448(S4_CH_HASH, 32, "08ad0fa05d7c7233b1775ba2ff9f4c5b8b59276b7f227f13a976245f5d960913");
/* §4 {client} derive secret "tls13 c e traffic": info */
R8448(S4_C_E_INFO, 53,
      "002011746c7331332063206520747261666669632008ad0fa05d7c7233b1775b"
      "a2ff9f4c5b8b59276b7f227f13a976245f5d960913");
/* §4 {client} derive secret "tls13 c e traffic": expanded */
R8448(S4_C_E, 32, "3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62");
/* §4 {client} derive secret "tls13 e exp master": info */
R8448(S4_E_EXP_INFO, 54,
      "002012746c733133206520657870206d61737465722008ad0fa05d7c7233b177"
      "5ba2ff9f4c5b8b59276b7f227f13a976245f5d960913");
/* §4 {client} derive secret "tls13 e exp master": expanded */
R8448(S4_E_EXP, 32, "b2026866610937d7423e5be90862ccf24c0e6091186d34f812089ff5be2ef7df");
/* §4 {client} derive write traffic keys for early application data: key expanded */
R8448(S4_EARLY_KEY, 16, "920205a5b7bf2115e6fc5c2942834f54");
/* §4 {client} derive write traffic keys for early application data: iv expanded */
R8448(S4_EARLY_IV, 12, "6d475f0993c8e564610db2b9");
/* §4 {client} send application_data record: payload */
R8448(S4_EARLY_PAYLOAD, 6, "414243444546");
/* §4 {client} send application_data record: complete record */
R8448(S4_EARLY_RECORD, 28, "1703030017ab1df420e75c457a7cc5d2844f76d5aee4b4edbf049be0");
/* §4 {server} construct a ServerHello handshake message: ServerHello */
R8448(S4_SH, 96,
      "0200005c03033ccfd2dec890222763472ae8136777c9d7358777bb66e91ea512"
      "2495f559ea2d00130100003400290002000000330024001d0020121761ee42c3"
      "33e1b9e77b60dd57c2053cd94512ab47f115e86eff50942cea31002b00020304");
/* §4 {server} derive secret for handshake "tls13 derived": expanded */
R8448(S4_DERIVED, 32, "5f1790bbd82c5e7d376ed2e1e52f8e6038c9346db61b43be9a52f77ef3998e80");
/* §4 {server} extract secret "handshake": IKM */
R8448(S4_DHE, 32, "f44194756ff9ec9d25180635d66ea6824c6ab3bf179977be37f723570e7ccb2e");
/* §4 {server} extract secret "handshake": secret */
R8448(S4_HS, 32, "005cb112fd8eb4ccc623bb88a07c64b3ede1605363fc7d0df8c7ce4ff0fb4ae6");
/* §4 {server} derive secret "tls13 c hs traffic": hash */
R8448(S4_CH_SH_HASH, 32, "f736cb34fe25e701551bee6fd24c1cc7102a7daf9405cb15d97aafe16f757d03");
/* §4 {server} derive secret "tls13 c hs traffic": expanded */
R8448(S4_C_HS, 32, "2faac08f851d35fea3604fcb4de82dc62c9b164a70974d0462e27f1ab278700f");
/* §4 {server} derive secret "tls13 s hs traffic": expanded */
R8448(S4_S_HS, 32, "fe927ae271312e8bf0275b581c54eef020450dc4ecffaa05a1a35d27518e7803");
/* §4 {server} derive secret for master "tls13 derived": expanded */
R8448(S4_DERIVED2, 32, "e2f16030251df0874ba19b9aba257610bc6d531c1dd206df0ca6e84ae2a26742");
/* §4 {server} extract secret "master": secret */
R8448(S4_MASTER, 32, "e2d32d4ed66dd37897a0e80c84107503ce58bf8aad4cb55a5002d77ecb890ece");
/* §4 {server} derive write traffic keys for handshake data: key expanded */
R8448(S4_S_HS_KEY, 16, "27c6bdc0a3dcea39a47326d79bc9e4ee");
/* §4 {server} derive write traffic keys for handshake data: iv expanded */
R8448(S4_S_HS_IV, 12, "9569ecdd4d0536705e9ef725");
/* §4 {server} construct an EncryptedExtensions handshake message: EncryptedExtensions */
R8448(S4_EE, 44,
      "080000280026000a00140012001d00170018001901000101010201030104001c"
      "0002400100000000002a0000");
/* §4 {server} calculate finished "tls13 finished": expanded */
R8448(S4_S_FINKEY, 32, "4bb74cae7a5dc8914604c0bfbe2f0c062396883922bec8a15e2a9b532a5d392c");
/* §4 {server} calculate finished "tls13 finished": finished */
R8448(S4_S_FIN, 32, "48d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2");
/* §4 {server} construct a Finished handshake message: Finished */
R8448(S4_S_FINISHED, 36,
      "1400002048d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0"
      "dd1a34b2");
/* §4 {server} send handshake record: payload */
R8448(S4_S_HS_PAYLOAD, 80,
      "080000280026000a00140012001d00170018001901000101010201030104001c"
      "0002400100000000002a00001400002048d3e0e1b3d907c6acff145e16090388"
      "c77b05c050b634ab1a88bbd0dd1a34b2");
/* §4 {server} send handshake record: complete record */
R8448(S4_S_HS_RECORD, 102,
      "1703030061dc48237b4b879f50d0d4d262ea8b4716eb40ddc1eb957e11126e8a"
      "7149c2d012d37a7115957e64ce30008b9e0323f2c05a9c1c77b4f37849a695ab"
      "255060a33fee770ca95cb8486bfd0843b87024865ca35cc41c4e515c64dcb136"
      "9f98635bc7a5");
/* §4 {server} derive secret "tls13 c ap traffic": hash */
R8448(S4_CH_SF_HASH, 32, "b0aeffc46a2cfe33114e6fd7d51f9f04b1ca3c497dab08934a774a9d9ad7dbf3");
/* §4 {server} derive secret "tls13 c ap traffic": expanded */
R8448(S4_C_AP, 32, "2abbf2b8e381d23dbebe1dd2a7d16a8bf484cb4950d23fb7fb7fa8547062d9a1");
/* §4 {server} derive secret "tls13 s ap traffic": expanded */
R8448(S4_S_AP, 32, "cc21f1bf8feb7dd5fa505bd9c4b468a9984d554a993dc49e6d285598fb672691");
/* §4 {server} derive secret "tls13 exp master": expanded */
R8448(S4_EXP, 32, "3fd93d4ffddc98e64b14dd107aedf8ee4add23f4510f58a4592d0b201bee56b4");
/* §4 {server} derive write traffic keys for application data: key expanded */
R8448(S4_S_AP_KEY, 16, "e857c690a34c5a9129d833619684f95e");
/* §4 {server} derive write traffic keys for application data: iv expanded */
R8448(S4_S_AP_IV, 12, "0685d6b561aab9ef1013faf9");
/* §4 {client} construct an EndOfEarlyData handshake message: EndOfEarlyData */
R8448(S4_EOED, 4, "05000000");
/* §4 {client} send handshake record: complete record */
R8448(S4_EOED_RECORD, 26, "1703030015aca6fc944841298df99593725f9bf9754429b12f09");
/* §4 {client} derive write traffic keys for handshake data: key expanded */
R8448(S4_C_HS_KEY, 16, "b1530806f4adfeac83f1413032bbfa82");
/* §4 {client} derive write traffic keys for handshake data: iv expanded */
R8448(S4_C_HS_IV, 12, "eb50c16be7654abf99dd06d9");
/* §4 {client} calculate finished "tls13 finished": expanded */
R8448(S4_C_FINKEY, 32, "5ace394c26980d581243f627d1150ae27e37fa52364e0a7f20ac686d09cd0e8e");
/* §4 {client} calculate finished "tls13 finished": finished */
R8448(S4_C_FIN, 32, "7230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d");
/* §4 {client} construct a Finished handshake message: Finished */
R8448(S4_C_FINISHED, 36,
      "140000207230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd3"
      "2bda416d");
/* §4 {client} send handshake record: complete record */
R8448(S4_C_FIN_RECORD, 58,
      "170303003500f8b467d14cf22a4b3f0b6ae0d8e6cc8d08e0db3515ef5c2bdf19"
      "22eafbb70009964716d834fb70c3d2a56c5b1f5f6bdba6c333cf");
/* §4 {client} derive write traffic keys for application data: key expanded */
R8448(S4_C_AP_KEY, 16, "3cf122f301c6358ca7989553250efd72");
/* §4 {client} derive write traffic keys for application data: iv expanded */
R8448(S4_C_AP_IV, 12, "ab1aec26aa78b8fc1176b9ac");
/* §4 {client} derive secret "tls13 res master": hash */
R8448(S4_CH_CF_HASH, 32, "c3c122e0bd907a4a3ff6112d8fd53dbf89c773d9552e8b6b9d56d361b3a97bf6");
/* §4 {client} derive secret "tls13 res master": expanded */
R8448(S4_RES, 32, "5e95bdf1f89005ea2e9aa0ba85e728e3c19c5fe0c699e3f5bee59faebd0b5406");
/* §4 {client} send application_data record: payload */
R8448(S4_C_APP_PAYLOAD, 50,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
      "202122232425262728292a2b2c2d2e2f3031");
/* §4 {client} send application_data record: complete record */
R8448(S4_C_APP_RECORD, 72,
      "1703030043b1cebce242aa201be9ae5e1cb2a9aa4b33d4e866af1edb06891923"
      "7741aa031d7a74d491c99b9d4e232b74206bc6fbaa04fe78be44a9b4f54320a1"
      "7eb76992afac3103");
/* §4 {server} send application_data record: payload */
R8448(S4_S_APP_PAYLOAD, 50,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
      "202122232425262728292a2b2c2d2e2f3031");
/* §4 {server} send application_data record: complete record */
R8448(S4_S_APP_RECORD, 72,
      "1703030043275e9f20acff57bc000657d3867df039cccf79047884cf75771746"
      "f740b5a83f462a0954c3581393a203a25a7dd14141ef1a37900cdb62ff62dee1"
      "ba39ab2590cbf194");
/* §4 {client} send alert record: payload */
R8448(S4_C_ALERT_PAYLOAD, 2, "0100");
/* §4 {client} send alert record: complete record */
R8448(S4_C_ALERT_RECORD, 24, "17030300130facce3246bdfc6369838d6a82ae6de5d422dc");
/* §4 {server} send alert record: payload */
R8448(S4_S_ALERT_PAYLOAD, 2, "0100");
/* §4 {server} send alert record: complete record */
R8448(S4_S_ALERT_RECORD, 24, "17030300135b18af444e8e1eec7158fb62d8f2577d37ba5d");
/* §5 {client} construct a ClientHello handshake message: ClientHello */
R8448(S5_CH1, 180,
      "010000b00303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee92"
      "58a346677b6f000006130113031302010000810000000b000900000673657276"
      "6572ff01000100000a00080006001d00170018003300260024001d0020e8e8e3"
      "f3b93a25ed97a14a7dcacb8a272c6288e585c6484d05262fcad062ad1f002b00"
      "03020304000d0020001e04030503060302030804080508060401050106010201"
      "0402050206020202002d00020101001c00024001");
/* §5 {server} construct a ServerHello handshake message: ServerHello */
R8448(S5_HRR, 176,
      "020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e"
      "09e2c8a8339c001301000084003300020017002c0074007271dcd04bb88bc318"
      "9119398a00000000eefafc76c146b823b096f8aacad365dd0030953f4edf6256"
      "36e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d"
      "6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0c"
      "af571fb2b7cff0f934b0002b00020304");
/* §5 {client} construct a ClientHello handshake message: ClientHello */
R8448(S5_CH2, 512,
      "010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee92"
      "58a346677b6f000006130113031302010001cd0000000b000900000673657276"
      "6572ff01000100000a00080006001d001700180033004700450017004104a6da"
      "7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f01518126"
      "77c4d6d2237e85cf01d6910cfb83954e76ba7352830534159897e8065780002b"
      "0003020304000d0020001e040305030603020308040805080604010501060102"
      "010402050206020202002c0074007271dcd04bb88bc3189119398a00000000ee"
      "fafc76c146b823b096f8aacad365dd0030953f4edf625636e5f21bb2e23fcc65"
      "4b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b"
      "0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934"
      "b0002d00020101001c00024001001500af000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000");
/* §5 {server} construct a ServerHello handshake message: ServerHello */
R8448(S5_SH, 123,
      "020000770303bb341d847fd789c47c387172dc0c9bf147fccacb5043d86ca4c5"
      "98d3ff571b9800130100004f003300450017004104583e054b7a66672ae020ad"
      "9d2686fcc85b5ad41a134a0f03ee72b893052bd85b4c8de6776f5b04ac07d835"
      "40eab3e3d9c547bc6528c4317d294686093a6cad7d002b00020304");
/* §5 {server} extract secret "handshake": IKM */
R8448(S5_DHE, 32, "c142ce13ca11b5c2233652e63ad3d97844f1621fbfb9de69d547dc8fedeabeb4");
/* §5 {server} extract secret "handshake": secret */
R8448(S5_HS, 32, "ce022e5e6e81e50736d773f2d3adfce8220d049bf510f0dbfac927ef4243b148");
/* §5 {server} derive secret "tls13 c hs traffic": hash */
R8448(S5_CH_SH_HASH, 32, "8aa8e828ec2f8a884fec95a3139de01c15a3daa7ff5bfc3f4bfcc21b438d7bf8");
/* §5 {server} derive secret "tls13 c hs traffic": expanded */
R8448(S5_C_HS, 32, "158aa7ab8855073582b41d674b4055cabcc534728f659314861b4e08e2011566");
/* §5 {server} derive secret "tls13 s hs traffic": expanded */
R8448(S5_S_HS, 32, "3403e781e2af7b6508da28574f6e95a1abf162de83a97927c37672a4a0cef8a1");

#endif
