-- CreateEnum
CREATE TYPE "Mood" AS ENUM ('HAPPY', 'sad');

-- CreateEnum
CREATE TYPE "levels" AS ENUM ('LOW', 'HIGH');

-- CreateTable
CREATE TABLE "Native" (
    "id" SERIAL NOT NULL,
    "text" TEXT NOT NULL,
    "vc" VARCHAR NOT NULL,
    "vc9" VARCHAR(9) NOT NULL,
    "ch" CHAR NOT NULL,
    "ch3" CHAR(3) NOT NULL,
    "bit" BIT NOT NULL,
    "bit4" BIT(4) NOT NULL,
    "vbit" VARBIT NOT NULL,
    "vbit4" VARBIT(4) NOT NULL,
    "uuid" UUID NOT NULL,
    "xml" XML NOT NULL,
    "inet" INET NOT NULL,
    "small" SMALLINT NOT NULL,
    "int" INTEGER NOT NULL,
    "oid" OID NOT NULL,
    "big" BIGINT NOT NULL,
    "real" REAL NOT NULL,
    "dbl" DOUBLE PRECISION NOT NULL,
    "dec" DECIMAL NOT NULL,
    "dec52" DECIMAL(5,2) NOT NULL,
    "money" MONEY NOT NULL,
    "bool" BOOLEAN NOT NULL,
    "ts" TIMESTAMP NOT NULL,
    "ts0" TIMESTAMP(0) NOT NULL,
    "tstz" TIMESTAMPTZ NOT NULL,
    "tstz3" TIMESTAMPTZ(3) NOT NULL,
    "date" DATE NOT NULL,
    "time" TIME NOT NULL,
    "time2" TIME(2) NOT NULL,
    "timetz" TIMETZ NOT NULL,
    "timetz2" TIMETZ(2) NOT NULL,
    "json" JSON NOT NULL,
    "jsonb" JSONB NOT NULL,
    "bytea" BYTEA NOT NULL,

    CONSTRAINT "Native_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Defaults" (
    "id" TEXT NOT NULL,
    "u4" TEXT NOT NULL,
    "u7" TEXT NOT NULL,
    "ul" TEXT NOT NULL,
    "nano" TEXT NOT NULL,
    "cu" TEXT NOT NULL,
    "nowd" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lit" TIMESTAMP(3) NOT NULL DEFAULT '2020-01-02 03:04:05 +00:00',
    "bytes" BYTEA NOT NULL DEFAULT '\x68656c6c6f',
    "big" BIGINT NOT NULL DEFAULT 42,
    "dec" DECIMAL(65,30) NOT NULL DEFAULT 1.50,
    "fl" DOUBLE PRECISION NOT NULL DEFAULT 2,
    "bool" BOOLEAN NOT NULL DEFAULT false,
    "js" JSONB NOT NULL DEFAULT '{"a": 1}',
    "mood" "Mood" NOT NULL DEFAULT 'sad',
    "moods" "Mood"[] DEFAULT ARRAY['HAPPY', 'sad']::"Mood"[],
    "ints" INTEGER[] DEFAULT ARRAY[1, 2]::INTEGER[],
    "gen" TEXT NOT NULL DEFAULT md5('x'),
    "upd" TIMESTAMP(3) NOT NULL,
    "seq" SMALLSERIAL NOT NULL,

    CONSTRAINT "Defaults_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Idx" (
    "id" INTEGER NOT NULL,
    "a" INTEGER NOT NULL,
    "b" TEXT NOT NULL,
    "c" JSONB NOT NULL,
    "d" TEXT[],
    "e" INET NOT NULL,
    "f" TIMESTAMP(3) NOT NULL,
    "g" VARBIT NOT NULL,
    "h" TIMESTAMPTZ NOT NULL,
    "i" TIMETZ NOT NULL,

    CONSTRAINT "Idx_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Parent" (
    "id" SERIAL NOT NULL,
    "key" TEXT NOT NULL,

    CONSTRAINT "Parent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "children" (
    "id" SERIAL NOT NULL,
    "a" INTEGER NOT NULL,
    "b" INTEGER NOT NULL,
    "c" INTEGER NOT NULL,
    "d" INTEGER,
    "e" INTEGER NOT NULL DEFAULT 1,
    "f" INTEGER NOT NULL,
    "g" INTEGER,
    "parent_key" TEXT NOT NULL,
    "level" "levels" NOT NULL DEFAULT 'HIGH',
    "shape" circle,
    "secret" TEXT,

    CONSTRAINT "children_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Tag" (
    "id" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Ignored" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "Ignored_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "_ParentToTag" (
    "A" INTEGER NOT NULL,
    "B" TEXT NOT NULL,

    CONSTRAINT "_ParentToTag_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateIndex
CREATE INDEX "a_hash" ON "Idx" USING HASH ("a");

-- CreateIndex
CREATE INDEX "Idx_e_idx" ON "Idx" USING GIST ("e" inet_ops);

-- CreateIndex
CREATE INDEX "Idx_c_idx" ON "Idx" USING GIN ("c" jsonb_ops);

-- CreateIndex
CREATE INDEX "Idx_d_idx" ON "Idx" USING GIN ("d" array_ops);

-- CreateIndex
CREATE INDEX "Idx_b_idx" ON "Idx" USING SPGIST ("b" text_ops);

-- CreateIndex
CREATE INDEX "brin1" ON "Idx" USING BRIN ("a" int4_minmax_ops);

-- CreateIndex
CREATE INDEX "f_brin" ON "Idx" USING BRIN ("f" timestamp_minmax_multi_ops);

-- CreateIndex
CREATE INDEX "brin2" ON "Idx" USING BRIN ("g" varbit_minmax_ops);

-- CreateIndex
CREATE INDEX "brin3" ON "Idx" USING BRIN ("h" timestamptz_bloom_ops);

-- CreateIndex
CREATE INDEX "brin4" ON "Idx" USING BRIN ("i" timetz_minmax_ops);

-- CreateIndex
CREATE INDEX "named_idx" ON "Idx"("a" DESC, "b" ASC);

-- CreateIndex
CREATE INDEX "b_btree" ON "Idx"("b");

-- CreateIndex
CREATE UNIQUE INDEX "ab_key" ON "Idx"("a", "b" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "Parent_key_key" ON "Parent"("key");

-- CreateIndex
CREATE INDEX "_ParentToTag_B_index" ON "_ParentToTag"("B");

-- AddForeignKey
ALTER TABLE "children" ADD CONSTRAINT "children_a_fkey" FOREIGN KEY ("a") REFERENCES "Parent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "children" ADD CONSTRAINT "children_b_fkey" FOREIGN KEY ("b") REFERENCES "Parent"("id") ON DELETE RESTRICT ON UPDATE RESTRICT;

-- AddForeignKey
ALTER TABLE "children" ADD CONSTRAINT "children_c_fkey" FOREIGN KEY ("c") REFERENCES "Parent"("id") ON DELETE NO ACTION ON UPDATE NO ACTION;

-- AddForeignKey
ALTER TABLE "children" ADD CONSTRAINT "children_d_fkey" FOREIGN KEY ("d") REFERENCES "Parent"("id") ON DELETE SET NULL ON UPDATE SET NULL;

-- AddForeignKey
ALTER TABLE "children" ADD CONSTRAINT "children_e_fkey" FOREIGN KEY ("e") REFERENCES "Parent"("id") ON DELETE SET DEFAULT ON UPDATE SET DEFAULT;

-- AddForeignKey
ALTER TABLE "children" ADD CONSTRAINT "children_f_fkey" FOREIGN KEY ("f") REFERENCES "Parent"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "children" ADD CONSTRAINT "child_optional_fk" FOREIGN KEY ("g") REFERENCES "Parent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "children" ADD CONSTRAINT "children_parent_key_fkey" FOREIGN KEY ("parent_key") REFERENCES "Parent"("key") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_ParentToTag" ADD CONSTRAINT "_ParentToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "Parent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_ParentToTag" ADD CONSTRAINT "_ParentToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag"("id") ON DELETE CASCADE ON UPDATE CASCADE;
